/**
 * The program of a split network (kernel/analysis/split.ts) on any device: the body compiled for
 * the maximum batch runs once at batch n, then the tail compiled for batch 1 runs once per sample
 * on that sample's slice of the cut tensors, and its outputs are joined. It is a CompiledModel, so
 * ExecutableNetwork and InferRequest drive it as they drive one device program.
 */
import { CompiledModel, DeviceRequest, IoBinding } from "../plugins";
import { numel } from "../graph/ops/util";
import { SplitCut, SplitOutput } from "../analysis/split";
import { ModelError } from "../errors";

/** Rows of a DetectionOutput result: [image_id, label, conf, x_min, y_min, x_max, y_max]. */
const ROW = 7;

/** A CompiledModel whose outputs may grow along another axis than 0 (a joined tail output). */
export interface SplitModel extends CompiledModel {
  /** Shape of output `index` (in `outputs`' order) at batch n. */
  shapeAt(index: number, n: number): number[];
}

/** Output `o`'s shape when n samples are joined. */
export function joinedShape(o: SplitOutput, n: number): number[] {
  const [s0, ...rest] = o.perSample;
  if (o.join === "detections") return [1, 1, n * o.perSample[2], ROW];
  return [n * s0, ...rest];
}

function binding(list: IoBinding[], name: string, what: string, file: string): IoBinding {
  const b = list.find((x) => x.aliases.includes(name));
  if (!b) throw new ModelError(file, `the split's ${what} '${name}' is missing from the compiled program`);
  return b;
}

/** Appends the valid rows of one sample's detections (up to the −1 marker) at row `count`, relabelled `sample`. */
function packDetections(dst: Float32Array, count: number, src: Float32Array, sample: number): number {
  let c = count;
  for (let r = 0; r + ROW <= src.length && src[r] >= 0; r += ROW) {
    dst.set(src.subarray(r, r + ROW), c * ROW);
    dst[c * ROW] = sample;
    c++;
  }
  return c;
}

interface TailOut {
  spec: SplitOutput;
  from: IoBinding;
  tensor: number;
  size: number;
}

/**
 * Joins `body` (compiled at `maxBatch`) and `tail` (compiled at batch 1) along `cuts`; `outputs`
 * lists the original network's outputs in its order. `file` names the model in errors.
 */
export function splitModel(
  body: CompiledModel,
  tail: CompiledModel,
  cuts: SplitCut[],
  outputs: SplitOutput[],
  maxBatch: number,
  file: string,
): SplitModel {
  const links = cuts.map((c) => ({
    from: binding(body.outputs, c.bodyOutput, "cut output", file).tensor,
    to: binding(tail.inputs, c.tailInput, "tail input", file).tensor,
    size: numel(c.shape),
  }));
  const tailOuts: TailOut[] = [];
  const bindings = outputs.map((o): IoBinding => {
    if (o.from === "body") return binding(body.outputs, o.result, "output", file);
    const from = binding(tail.outputs, o.result, "output", file);
    // Tensor numbers of their own, below the devices' (which count from 0).
    const tensor = -1 - tailOuts.length;
    tailOuts.push({ spec: o, from, tensor, size: numel(o.perSample) });
    const shape = joinedShape(o, maxBatch);
    return { ...from, shape, batched: o.join === "concat" && o.perSample[0] === 1, tensor };
  });
  return {
    inputs: body.inputs,
    outputs: bindings,
    layers: [...body.layers, ...tail.layers],
    shapeAt: (index, n) => {
      const o = outputs[index];
      if (o.from === "tail") return joinedShape(o, n);
      const s = bindings[index].shape;
      return bindings[index].batched ? [n, ...s.slice(1)] : [...s];
    },
    createRequest(): DeviceRequest {
      const b = body.createRequest();
      const t = tail.createRequest();
      const own = new Map(tailOuts.map((o) => [o.tensor, new Float32Array(numel(joinedShape(o.spec, maxBatch)))]));
      const bodyLayers = body.layers.length;
      return {
        buffer: (tensor) => own.get(tensor) ?? b.buffer(tensor),
        strategy: b.strategy ? (n) => b.strategy!(n) : undefined,
        async run(n: number): Promise<Float64Array> {
          const times = new Float64Array(bodyLayers + tail.layers.length);
          times.set(await b.run(n));
          const rows = tailOuts.map(() => 0);
          for (const o of tailOuts) if (o.spec.join === "detections") own.get(o.tensor)!.fill(0);
          for (let i = 0; i < n; i++) {
            for (const l of links) t.buffer(l.to).set(b.buffer(l.from).subarray(i * l.size, (i + 1) * l.size));
            const tt = await t.run(1);
            for (let k = 0; k < tt.length; k++) times[bodyLayers + k] += tt[k];
            tailOuts.forEach((o, j) => {
              const src = t.buffer(o.from.tensor).subarray(0, o.size);
              const dst = own.get(o.tensor)!;
              if (o.spec.join === "detections") rows[j] = packDetections(dst, rows[j], src, i);
              else dst.set(src, i * o.size);
            });
          }
          tailOuts.forEach((o, j) => {
            // OpenVINO's end marker: the row after the last detection starts with image_id −1.
            if (o.spec.join === "detections" && rows[j] < n * o.spec.perSample[2]) own.get(o.tensor)![rows[j] * ROW] = -1;
          });
          return times;
        },
      };
    },
  };
}
