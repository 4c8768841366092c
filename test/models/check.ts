/**
 * One real model through dynbatch and onnxruntime: read, bind the shape, verdicts in both modes,
 * runs at n = 1..4 (setBatch when shape-aware analysis allows a dynamic batch, else a reshape and
 * load per n), each compared with onnxruntime on the same file. The error is the largest absolute
 * difference over every n divided by the range of onnxruntime's outputs over every n; the same
 * measure of onnxruntime against itself with its graph rewrites off shows float32's noise there.
 */
import * as fs from "fs";
import * as ort from "onnxruntime-node";
import { CNNNetwork, IECore, TopologyReport } from "../../kernel";
import { ModelProtoType, ONNX_DTYPE, OnnxModel, toNum } from "../../kernel/readers/onnx/proto";
import { numel } from "../helpers/models";
import { makeInput } from "./inputs";
import { ModelEntry, modelPath } from "./table";

export interface ModelRow {
  entry: ModelEntry;
  opset: number;
  producer: string;
  strict: TopologyReport;
  shapeAware: TopologyReport;
  /** "setBatch" (one dynamic-batch load) or "reshape" (one static load per n). */
  mode: "setBatch" | "reshape";
  batches: number[];
  /** Bound shape at batch 1. */
  shape: number[];
  maxAbs: number;
  /** onnxruntime against itself (graph optimizations off, one thread): the float32 noise floor of this model. */
  floorAbs: number;
  range: number;
  ms: number;
}

/** Opset of the default domain and "producer version" as written in the file. */
export function modelInfo(file: string): { opset: number; producer: string } {
  // OnnxModel leaves out the producer fields the reader does not use.
  const m = ModelProtoType.decode(fs.readFileSync(file)) as unknown as OnnxModel & {
    producer_name?: string;
    producer_version?: string;
  };
  const def = m.opset_import.find((o) => !o.domain || o.domain === "ai.onnx");
  const producer = `${m.producer_name ?? ""} ${m.producer_version ?? ""}`.trim() || "(not recorded)";
  return { opset: def ? toNum(def.version) : 0, producer };
}

/** onnxruntime tensors for the inputs the entry freezes: the same values, with the file's declared type and shape. */
export function frozenFeeds(file: string, freeze: Record<string, number[]>): Record<string, ort.Tensor> {
  const m = ModelProtoType.decode(fs.readFileSync(file)) as unknown as OnnxModel;
  return Object.fromEntries(
    Object.entries(freeze).map(([name, values]) => {
      const tt = m.graph!.input.find((v) => v.name === name)!.type!.tensor_type!;
      const dims = (tt.shape?.dim ?? []).map((d) => toNum(d.dim_value));
      if (tt.elem_type === ONNX_DTYPE.INT64) return [name, new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), dims)];
      if (tt.elem_type === ONNX_DTYPE.FLOAT) return [name, new ort.Tensor("float32", Float32Array.from(values), dims)];
      throw new Error(`${file}: frozen input '${name}' has element type ${tt.elem_type}, which this oracle does not feed`);
    }),
  );
}

/** The entry's input shapes at batch n: its main input (sample shape `sample`) and its extra inputs. */
function shapesAt(m: ModelEntry, sample: number[], n: number): Record<string, number[]> {
  return Object.fromEntries([[m.input, [n, ...sample]], ...(m.extra ?? []).map((x) => [x.input, x.shape(n)])]);
}

/** "Transpose×2, Slice×4" from the blocking layers of a report. */
export function blockingTypes(r: TopologyReport): string {
  const counts = new Map<string, number>();
  for (const l of r.layers) if (l.verdict === "unsupported") counts.set(l.type, (counts.get(l.type) ?? 0) + 1);
  return [...counts].map(([t, c]) => (c > 1 ? `${t}×${c}` : t)).join(", ");
}

async function oracle(
  session: ort.InferenceSession,
  m: ModelEntry,
  feeds: Record<string, Float32Array>,
  sample: number[],
  n: number,
  frozen: Record<string, ort.Tensor>,
): Promise<Record<string, Float32Array>> {
  const data = feeds[m.input];
  if (!m.fixedBatch) {
    const shapes = shapesAt(m, sample, n);
    const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor("float32", v, shapes[k])]));
    const r = await session.run({ ...tensors, ...frozen });
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
  }
  // The file declares a batch of 1: one onnxruntime run per sample, rows concatenated.
  if (m.extra) throw new Error(`${m.id}: a fixed-batch entry with extra inputs has no per-sample oracle here`);
  const per = numel(sample);
  const rows: Record<string, Float32Array[]> = {};
  for (let s = 0; s < n; s++) {
    const r = await session.run({
      [m.input]: new ort.Tensor("float32", data.subarray(s * per, (s + 1) * per), [1, ...sample]),
      ...frozen,
    });
    for (const [k, v] of Object.entries(r)) (rows[k] ??= []).push(v.data as Float32Array);
  }
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Float32Array.from(v.flatMap((a) => [...a]))]));
}

async function requestFor(ie: IECore, net: CNNNetwork, m: ModelEntry, shape: number[], n: number, dynamic: boolean, device: string) {
  net.reshape(shapesAt(m, shape.slice(1), n));
  return (await ie.loadNetwork(net, device, dynamic ? { DYN_BATCH_ENABLED: "YES" } : {})).createInferRequest();
}

export async function checkModel(
  ie: IECore,
  m: ModelEntry,
  quick: boolean,
  batches: number[],
  device = "CPU",
): Promise<ModelRow> {
  const t0 = Date.now();
  const file = modelPath(m);
  const shape = quick && m.quickShape ? m.quickShape : m.shape;
  const net = await ie.readNetwork(file, { freeze: m.freeze });
  net.reshape(shapesAt(m, shape.slice(1), 1));
  const frozen = frozenFeeds(file, m.freeze ?? {});
  const strict = net.analyze({ mode: "strict" });
  const shapeAware = net.analyze();
  const dynamic = shapeAware.supported;
  const session = await ort.InferenceSession.create(file);
  const plain = await ort.InferenceSession.create(file, { graphOptimizationLevel: "disabled", intraOpNumThreads: 1 });
  const sample = shape.slice(1);
  const outputs = Object.keys(net.outputs);
  const shared = dynamic ? await requestFor(ie, net, m, shape, Math.max(...batches), true, device) : undefined;
  let maxAbs = 0;
  let floorAbs = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const n of batches) {
    const req = shared ?? (await requestFor(ie, net, m, shape, n, false, device));
    if (shared) req.setBatch(n);
    const feeds: Record<string, Float32Array> = { [m.input]: makeInput(m.make, n, sample, 1000 + n) };
    (m.extra ?? []).forEach((x, i) => (feeds[x.input] = makeInput(x.make, 1, x.shape(n), 2000 + 100 * i + n)));
    for (const [k, v] of Object.entries(feeds)) req.setInput(k, v);
    for (const o of outputs) req.getBlob(o).data.fill(NaN);
    await req.infer();
    const want = await oracle(session, m, feeds, sample, n, frozen);
    const again = await oracle(plain, m, feeds, sample, n, frozen);
    for (const o of outputs) {
      const got = req.getBlob(o).data;
      const w = want[o];
      if (got.length !== w.length) throw new Error(`${m.id}: output ${o} at n=${n} has ${got.length} values, onnxruntime ${w.length}`);
      for (let i = 0; i < w.length; i++) {
        // NaN in `got` (a row never written) must fail, so compare with !(<=).
        const d = Math.abs(got[i] - w[i]);
        maxAbs = !(d <= maxAbs) ? (Number.isNaN(d) ? Infinity : d) : maxAbs;
        floorAbs = Math.max(floorAbs, Math.abs(again[o][i] - w[i]));
        lo = Math.min(lo, w[i]);
        hi = Math.max(hi, w[i]);
      }
    }
  }
  const { opset, producer } = modelInfo(file);
  const mode = dynamic ? "setBatch" : "reshape";
  const range = m.nominalRange ?? hi - lo;
  return { entry: m, opset, producer, strict, shapeAware, mode, batches, shape, maxAbs, floorAbs, range, ms: Date.now() - t0 };
}
