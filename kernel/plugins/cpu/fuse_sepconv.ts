/**
 * Depthwise-separable chains become one `sepconv` op (native/src/ops/fused_sepconv.cc), which
 * computes them row by row and keeps the intermediate tensors in per-thread row buffers:
 * - 1×1 expand → depthwise 3×3 → 1×1 project (MobileNetV2's inverted residual, with the project's
 *   residual `sum`), or expand → depthwise, or depthwise (≤ 64 channels) → a narrowing 1×1.
 * Runs after fuse.ts, on its convs with their bias and eltwise/sum post-ops folded in; a stage's
 * activation must be none, ReLU or a clamp around 0, and every intermediate tensor must have the
 * next stage as its only reader.
 *
 * A depthwise → widening 1×1 pair (MobileNet-v1, SSD, face detection) stays two oneDNN convs: its
 * 1×1 already runs at ~93% of the FP32 peak and the fused pair measured 0.98-1.04× their time.
 */
import { loadAddon } from "../native";
import { FusedProgram, ProgramEdit, same } from "./program_edit";

/**
 * The widest depthwise conv whose pair with a narrowing 1×1 fuses: MobileNetV2's first block
 * (112×112, 32 → 16) measured 0.52-0.68× the two convs' time, face detection's 24×42, 328 → 304
 * 1.02-1.10× (its 1×1 dominates, and oneDNN's runs near the peak).
 */
const PAIR_MAX_CHANNELS = 64;

/** A clamp [lo, hi] that the fused kernels apply after a stage. */
type Clamp = [number, number];

/** One conv of a chain with the parts sepconv takes from it. */
interface Stage {
  op: number;
  weights: number;
  bias?: number;
  clamp?: Clamp;
  sum?: number;
}

class SepFuser extends ProgramEdit {
  /**
   * Conv op i as a stage: its post-ops ("sum" first when `sum` is allowed, then at most one
   * ReLU or clamp that keeps 0) and its constant weights and bias; undefined when it has others.
   */
  stage(i: number, allowSum: boolean): Stage | undefined {
    const op = this.ops[i];
    if (!op || op.type !== "conv") return undefined;
    const items = typeof op.attrs.post === "string" && op.attrs.post ? op.attrs.post.split(";") : [];
    const sums = items[0] === "sum" && allowSum ? 1 : 0;
    if (items.length > sums + 1) return undefined;
    let clamp: Clamp | undefined;
    if (items.length > sums) {
      const [kind, lo, hi] = items[sums].split(":");
      if (kind === "relu" && lo === undefined) clamp = [0, Infinity];
      else if (kind === "clamp" && Number(lo) <= 0 && Number(hi) >= 0) clamp = [Number(lo), Number(hi)];
      else return undefined;
    }
    const regular = op.inputs.length - sums;
    if (regular < 2 || regular > 3) return undefined;
    const [weights, bias] = op.inputs.slice(1, regular);
    if (!this.tensors[weights].data || (bias !== undefined && !this.tensors[bias].data)) return undefined;
    return { op: i, weights, bias, clamp, sum: sums ? op.inputs[regular] : undefined };
  }

  /** Whether conv op i is a 1×1, stride 1, unpadded convolution of a 4-D tensor. */
  pointwise(i: number): boolean {
    const op = this.ops[i]!;
    const w = this.shape(op.inputs[1]);
    const x = this.shape(op.inputs[0]);
    const ones = (v: unknown) => Array.isArray(v) && v.every((d) => d === 1);
    const zeros = (v: unknown) => Array.isArray(v) && v.every((d) => d === 0);
    return (
      x.length === 4 &&
      ((op.attrs.group as number | undefined) ?? 1) === 1 &&
      same(w.slice(2), [1, 1]) &&
      ones(op.attrs.strides) &&
      ones(op.attrs.dilations) &&
      zeros(op.attrs.padsBegin) &&
      zeros(op.attrs.padsEnd)
    );
  }

  /** Conv op i's stride when it is a depthwise 3×3 with padding 1 whose output sepconv computes. */
  depthwiseStride(i: number): number | undefined {
    const op = this.ops[i]!;
    const x = this.shape(op.inputs[0]);
    const y = this.shape(op.outputs[0]);
    const w = this.shape(op.inputs[1]);
    const s = (op.attrs.strides as number[])[0];
    const pb = op.attrs.padsBegin as number[];
    if (x.length !== 4 || op.attrs.group !== x[1] || !same(w, [x[1], 1, 3, 3])) return undefined;
    if (!same(op.attrs.strides as number[], [s, s]) || (s !== 1 && s !== 2) || !same(pb, [1, 1])) return undefined;
    if (!(op.attrs.dilations as number[]).every((d) => d === 1)) return undefined;
    return same(y, [x[0], x[1], Math.floor((x[2] - 1) / s) + 1, Math.floor((x[3] - 1) / s) + 1]) ? s : undefined;
  }

  /** The chain around depthwise conv d, if one is worth fusing. */
  chain(d: number): { expand?: Stage; depth: Stage; project?: Stage; stride: number } | undefined {
    const stride = this.depthwiseStride(d);
    const depth = stride === undefined ? undefined : this.stage(d, false);
    if (!depth) return undefined;
    const dw = this.ops[d]!;
    const e = this.producer(dw.inputs[0]);
    const expandStage = e >= 0 && this.soleConsumer(dw.inputs[0]) === d ? this.stage(e, false) : undefined;
    const expand = expandStage && this.pointwise(e) ? expandStage : undefined;
    const q = this.soleConsumer(dw.outputs[0]);
    const projectStage = q === undefined ? undefined : this.stage(q, true);
    const project = projectStage && this.ops[q!]!.inputs[0] === dw.outputs[0] && this.pointwise(q!) ? projectStage : undefined;
    const channels = this.shape(dw.outputs[0])[1];
    const narrowing = project !== undefined && this.shape(this.ops[project.op]!.outputs[0])[1] < channels;
    if (!expand && !(narrowing && channels <= PAIR_MAX_CHANNELS)) return undefined;
    return { expand, depth, project, stride: stride! };
  }

  /** A bias of `channels` zeros for a stage without one. */
  zeros(channels: number): number {
    this.tensors.push({ shape: [channels], batched: false, data: new Float32Array(channels) });
    return this.tensors.length - 1;
  }

  run(): FusedProgram {
    for (let d = 0; d < this.ops.length; d++) {
      const dw = this.ops[d];
      if (dw?.type !== "conv") continue;
      const c = this.chain(d);
      if (!c) continue;
      const stages = [c.expand, c.depth, c.project].filter((s): s is Stage => s !== undefined);
      const first = this.ops[stages[0].op]!;
      const last = stages[stages.length - 1].op;
      const inputs = [first.inputs[0]];
      const attrs: Record<string, number | number[]> = { stride: c.stride, expand: c.expand ? 1 : 0, project: c.project ? 1 : 0 };
      for (const [key, s] of [
        ["expandClamp", c.expand],
        ["depthClamp", c.depth],
        ["projectClamp", c.project],
      ] as const) {
        if (!s) continue;
        inputs.push(s.weights, s.bias ?? this.zeros(this.shape(s.weights)[0]));
        if (s.clamp) attrs[key] = s.clamp;
      }
      if (c.project?.sum !== undefined) {
        inputs.push(c.project.sum);
        attrs.sum = 1;
      }
      // At the last stage's place: every input (x, a residual) is computed by then.
      this.ops[last] = { type: "sepconv", name: this.ops[last]!.name, inputs, outputs: [...this.ops[last]!.outputs], attrs };
      for (const s of stages.slice(0, -1)) this.moveLayers(last, s.op);
    }
    return this.result();
  }
}

/**
 * Fuses the depthwise-separable chains of a fused program into `sepconv` ops where that pays on
 * this CPU (`pays`: the native addon's answer by default, see native/src/fused_rows.h).
 */
export function fuseSeparable(p: FusedProgram, pays = loadAddon().sepconvFusionPays()): FusedProgram {
  return pays ? new SepFuser({ ...p, spec: { ...p.spec, tensors: [...p.spec.tensors] } }).run() : p;
}
