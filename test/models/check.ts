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
import { ModelProtoType, OnnxModel, toNum } from "../../kernel/readers/onnx/proto";
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

/** "Transpose×2, Slice×4" from the blocking layers of a report. */
export function blockingTypes(r: TopologyReport): string {
  const counts = new Map<string, number>();
  for (const l of r.layers) if (l.verdict === "unsupported") counts.set(l.type, (counts.get(l.type) ?? 0) + 1);
  return [...counts].map(([t, c]) => (c > 1 ? `${t}×${c}` : t)).join(", ");
}

async function oracle(
  session: ort.InferenceSession,
  m: ModelEntry,
  data: Float32Array,
  sample: number[],
  n: number,
): Promise<Record<string, Float32Array>> {
  if (!m.fixedBatch) {
    const r = await session.run({ [m.input]: new ort.Tensor("float32", data, [n, ...sample]) });
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
  }
  // The file declares a batch of 1: one onnxruntime run per sample, rows concatenated.
  const per = numel(sample);
  const rows: Record<string, Float32Array[]> = {};
  for (let s = 0; s < n; s++) {
    const r = await session.run({ [m.input]: new ort.Tensor("float32", data.subarray(s * per, (s + 1) * per), [1, ...sample]) });
    for (const [k, v] of Object.entries(r)) (rows[k] ??= []).push(v.data as Float32Array);
  }
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Float32Array.from(v.flatMap((a) => [...a]))]));
}

async function requestFor(ie: IECore, net: CNNNetwork, m: ModelEntry, shape: number[], n: number, dynamic: boolean, device: string) {
  net.reshape({ [m.input]: [n, ...shape.slice(1)] });
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
  const net = await ie.readNetwork(file);
  net.reshape({ [m.input]: shape });
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
    const data = makeInput(m.make, n, sample, 1000 + n);
    req.setInput(m.input, data);
    for (const o of outputs) req.getBlob(o).data.fill(NaN);
    await req.infer();
    const want = await oracle(session, m, data, sample, n);
    const again = await oracle(plain, m, data, sample, n);
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
