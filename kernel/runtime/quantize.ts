/**
 * Post-training quantization of a graph: FakeQuantize on the inputs of every Convolution and
 * MatMul, as NNCF/POT place them. Activations get per-tensor uint8 limits (256 levels) from
 * calibration runs, nudged so that zero is a level (the QDQ export then maps them exactly onto
 * uint8); constant weights get symmetric int8 limits per output channel (255 levels).
 */
import { ConstTensor, Graph, Node, PortRef, nodeMap } from "../graph/graph";
import { graphInputs } from "../graph/io";
import { attrBool } from "../graph/attrs";
import { numel } from "../graph/ops/util";
import { prepare } from "../graph/prepare";
import { InputError } from "../errors";
import { deviceError, pluginFor } from "../plugins";

export interface QuantizeOptions {
  /** Samples of the network's single input, each of its per-sample shape (or several concatenated in one array). */
  calibration: Float32Array[] | Float32Array;
  /** How many calibration samples to run (default: all); more than given is an error. */
  samples?: number;
  /** Activation limits at this percentile of the values (low tail 100 − p, high tail p) instead of min/max; in (50, 100]. */
  percentile?: number;
  /** Layer names or types left in FP32 (their inputs get no FakeQuantize). */
  keepFp32?: string[];
  /**
   * 7-bit weights (129 levels, NNCF's overflow fix): CPUs without VNNI (AVX2) sum u8·s8 pairs in a
   * saturating 16-bit step, so only these run their convolutions in int8 there; a little less accurate.
   */
  overflowFix?: boolean;
}

/** Layer types whose inputs are quantized. */
const TARGETS = new Set(["Convolution", "GroupConvolution", "MatMul"]);
const HISTOGRAM_BINS = 4096;

function key(r: PortRef): string {
  return `${r.node}:${r.port}`;
}

/** The calibration samples as per-sample arrays, checked against the input's per-sample size. */
function samplesOf(opts: QuantizeOptions, sample: number, inputName: string): Float32Array[] {
  const given = opts.calibration;
  let list: Float32Array[];
  if (given instanceof Float32Array) {
    if (given.length === 0 || given.length % sample !== 0) {
      throw new InputError(
        `calibration holds ${given.length} values, not a whole number of samples of input '${inputName}' (${sample} values each)`,
      );
    }
    list = Array.from({ length: given.length / sample }, (_, i) => given.subarray(i * sample, (i + 1) * sample));
  } else if (Array.isArray(given)) {
    given.forEach((s, i) => {
      if (!(s instanceof Float32Array) || s.length !== sample) {
        throw new InputError(`calibration[${i}] must be a Float32Array of ${sample} values (one sample of input '${inputName}')`);
      }
    });
    list = given;
  } else {
    throw new InputError("calibration must be a Float32Array or an array of Float32Array samples");
  }
  const want = opts.samples ?? list.length;
  if (!Number.isInteger(want) || want < 1) throw new InputError(`samples must be a positive integer, got ${opts.samples}`);
  if (list.length < want) throw new InputError(`samples is ${want} but calibration holds only ${list.length} sample(s)`);
  const p = opts.percentile;
  if (p !== undefined && !(p > 50 && p <= 100)) throw new InputError(`percentile must be in (50, 100], got ${p}`);
  return list.slice(0, want);
}

/** Per activation port: the value range over the calibration runs (min/max, or the percentile of a histogram). */
async function calibrate(
  g: Graph,
  inputShapes: Record<string, number[]>,
  ports: PortRef[],
  samples: Float32Array[],
  percentile?: number,
): Promise<Map<string, [number, number]>> {
  const probe: Graph = { ...g, nodes: [...g.nodes] };
  let id = Math.max(...g.nodes.map((n) => n.id)) + 1;
  const names = ports.map((r, k) => {
    const name = `__calibration_${k}`;
    probe.nodes.push({ id: id++, name, type: "Result", version: "opset1", attrs: {}, inputs: [r], outputs: [] });
    return name;
  });
  const plugin = pluginFor("CPU");
  if (!plugin) throw deviceError("CPU");
  const prepared = prepare(probe, { inputShapes, batch: 1 });
  const compiled = plugin.compile(prepared, {
    maxBatch: 1,
    batched: null,
    threads: plugin.defaultThreads,
    independentSamples: false,
    parallel: "layers",
  });
  const req = compiled.createRequest();
  const input = compiled.inputs[0].tensor;
  const outs = names.map((n) => compiled.outputs.find((o) => o.aliases.includes(n))!.tensor);
  const lo = new Array<number>(ports.length).fill(Infinity);
  const hi = new Array<number>(ports.length).fill(-Infinity);
  const runAll = async (visit: (k: number, v: Float32Array) => void) => {
    for (const s of samples) {
      req.buffer(input).set(s);
      await req.run(1);
      outs.forEach((t, k) => visit(k, req.buffer(t)));
    }
  };
  await runAll((k, v) => {
    for (let i = 0; i < v.length; i++) {
      if (v[i] < lo[k]) lo[k] = v[i];
      if (v[i] > hi[k]) hi[k] = v[i];
    }
  });
  if (percentile !== undefined && percentile < 100) {
    const hist = ports.map(() => new Float64Array(HISTOGRAM_BINS));
    await runAll((k, v) => {
      const w = (hi[k] - lo[k]) / HISTOGRAM_BINS || 1;
      for (let i = 0; i < v.length; i++) hist[k][Math.min(HISTOGRAM_BINS - 1, Math.floor((v[i] - lo[k]) / w))]++;
    });
    hist.forEach((h, k) => {
      const total = h.reduce((a, b) => a + b, 0);
      const w = (hi[k] - lo[k]) / HISTOGRAM_BINS;
      const at = (q: number) => {
        let acc = 0;
        for (let b = 0; b < HISTOGRAM_BINS; b++) if ((acc += h[b]) >= q * total) return lo[k] + (b + 1) * w;
        return hi[k];
      };
      [lo[k], hi[k]] = [Math.max(lo[k], at(1 - percentile / 100) - w), Math.min(hi[k], at(percentile / 100))];
    });
  }
  return new Map(ports.map((r, k) => [key(r), [lo[k], hi[k]]]));
}

/** uint8 limits covering [lo, hi] and 0, with 0 on the grid (an integer zero point), as onnxruntime's quantizer picks them. */
function activationLimits(lo: number, hi: number): [number, number] {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  if (b - a === 0) return [0, 1];
  const s = (b - a) / 255;
  const zero = Math.round(-a / s);
  return [-zero * s, (255 - zero) * s];
}

/** Symmetric limits per output channel: max |w| over every axis but `axes` (which keep their size in the limits' shape). */
function weightLimits(w: ConstTensor, axes: number[]): ConstTensor {
  const shape = w.shape.map((d, k) => (axes.includes(k) ? d : 1));
  const strides = w.shape.map((_, k) => numel(w.shape.slice(k + 1)));
  const lstrides = shape.map((_, k) => numel(shape.slice(k + 1)));
  const out = new Float32Array(numel(shape));
  for (let i = 0; i < w.data.length; i++) {
    let j = 0;
    for (const a of axes) j += (Math.floor(i / strides[a]) % w.shape[a]) * lstrides[a];
    out[j] = Math.max(out[j], Math.abs(w.data[i]));
  }
  // An all-zero channel stays zero at any limit; 1 keeps the scale positive for the QDQ export.
  return { dtype: "f32", shape, data: out.map((v) => (v > 0 ? v : 1)) };
}

/** The axes of a constant weight that index output channels, or undefined when the layer has none to quantize per channel. */
function channelAxes(n: Node, w: ConstTensor): number[] {
  const r = w.shape.length;
  if (n.type === "Convolution") return [0];
  if (n.type === "GroupConvolution") return [0, 1];
  // MatMul weights B [.., K, N] (or [.., N, K] transposed): one limit per output column.
  if (r < 2) return [];
  return [attrBool(n.attrs, "transpose_b", false) ? r - 2 : r - 1];
}

/** A copy of `g` with FakeQuantize inserted before the inputs of its Convolution/GroupConvolution/MatMul layers. */
export async function quantizeGraph(g: Graph, inputShapes: Record<string, number[]>, opts: QuantizeOptions): Promise<Graph> {
  const ios = graphInputs(g);
  if (ios.length !== 1) throw new InputError(`quantize calibrates networks with one input; this one has ${ios.length}`);
  const prepared = prepare(g, { inputShapes, batch: 1 });
  const byId = nodeMap(prepared);
  const sampleShape = byId.get(ios[0].ref.node)!.outputs[0].shape.slice(1);
  const samples = samplesOf(opts, numel(sampleShape), ios[0].name);
  const keep = new Set(opts.keepFp32 ?? []);
  const constOf = (r: PortRef): ConstTensor | undefined => {
    const src = byId.get(r.node)!;
    return src.folded?.[r.port] ?? (src.type === "Const" ? src.value : undefined);
  };
  const targets = prepared.nodes.filter((n) => TARGETS.has(n.type) && !n.folded && !keep.has(n.name) && !keep.has(n.type));
  const activations = new Map<string, PortRef>();
  for (const n of targets) n.inputs.slice(0, 2).forEach((r) => constOf(r) || activations.set(key(r), r));
  const ranges = await calibrate(g, inputShapes, [...activations.values()], samples, opts.percentile);

  let nextId = Math.max(...g.nodes.map((n) => n.id)) + 1;
  const added = new Map<number, Node[]>();
  const replaced = new Map<string, PortRef>();
  const constNode = (name: string, t: ConstTensor): Node => ({
    id: nextId++,
    name,
    type: "Const",
    version: "opset1",
    attrs: { element_type: "f32", shape: t.shape.join(",") },
    inputs: [],
    outputs: [{ names: [], dtype: "f32", shape: [...t.shape] }],
    value: t,
  });
  /** Inserts FakeQuantize(src) before `before`, with the same limits in and out. */
  const insert = (before: number, name: string, src: PortRef, low: ConstTensor, high: ConstTensor, levels: number): PortRef => {
    const lim = [constNode(`${name}/input_low`, low), constNode(`${name}/input_high`, high)];
    const lim2 = [constNode(`${name}/output_low`, low), constNode(`${name}/output_high`, high)];
    const shape = byId.get(src.node)!.outputs[src.port].shape;
    const fq: Node = {
      id: nextId++,
      name,
      type: "FakeQuantize",
      version: "opset1",
      attrs: { levels: String(levels), auto_broadcast: "numpy" },
      inputs: [src, ...[...lim, ...lim2].map((c) => ({ node: c.id, port: 0 }))],
      outputs: [{ names: [], dtype: "f32", shape: [...shape] }],
    };
    added.set(before, [...(added.get(before) ?? []), ...lim, ...lim2, fq]);
    return { node: fq.id, port: 0 };
  };
  const scalar = (v: number): ConstTensor => ({ dtype: "f32", shape: [], data: Float32Array.of(v) });

  const nodes = g.nodes.map((n) => ({ ...n, inputs: [...n.inputs] }));
  const original = nodeMap({ ...g, nodes });
  for (const t of targets) {
    const node = original.get(t.id)!;
    t.inputs.slice(0, 2).forEach((r, i) => {
      const w = constOf(r);
      if (w) {
        const axes = channelAxes(t, w);
        if (i !== 1 || axes.length === 0) return;
        const high = weightLimits(w, axes);
        const low = { ...high, data: high.data.map((v) => -v) };
        node.inputs[i] = insert(t.id, `${t.name}/weights/fq`, r, low, high, opts.overflowFix ? 129 : 255);
        return;
      }
      let q = replaced.get(key(r));
      if (!q) {
        const [lo, hi] = activationLimits(...ranges.get(key(r))!);
        const src = byId.get(r.node)!;
        q = insert(t.id, `${src.name}/port${r.port}/fq`, r, scalar(lo), scalar(hi), 256);
        replaced.set(key(r), q);
      }
      node.inputs[i] = q;
    });
  }
  // New nodes go right before the first layer that reads them, so the file stays in topological order.
  const ordered = nodes.flatMap((n) => [...(added.get(n.id) ?? []), n]);
  return { ...g, nodes: ordered };
}
