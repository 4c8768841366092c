/**
 * Fusion of the lowered op list for oneDNN (native/OPS.md, "post"): a tensor with a single
 * consumer that is not a program output disappears into its producer.
 * - conv → per-channel Add/Subtract of a constant: folded into the bias; Multiply/Divide by a
 *   per-channel constant or BatchNorm (before any post-op): folded into weights and bias;
 * - per-channel Multiply by a constant → conv: folded into the conv's weights (input channels;
 *   exact with padding, which stays zero); per-channel Add → conv without padding: folded into
 *   its bias; a program input's Multiply/Add chain → padded conv: the conv's preScale/preShift;
 * - conv → Add of a same-shaped tensor computed earlier (a residual): the `sum` post-op;
 * - conv → activation → per-channel Multiply/Add (a batch norm after the ReLU): binary post-ops,
 *   a positive scale after (leaky) ReLU folded into the weights and bias instead;
 * - other per-channel constant Multiply/Add/Subtract/Divide chains and batch norms: one `affine`
 *   op (x·scale + shift per channel);
 * - mean / max over the spatial axes of a 4-D tensor: a global pool;
 * - conv, pool, matmul (2-D) or binary → activation (PReLU with one slope as leaky ReLU): eltwise
 *   post-ops; a 2-D matmul also takes per-channel constant binary ops as post-ops;
 * - Transpose [0, 2, 3, 1] of a 4-D tensor: a reorder into nhwc from whatever layout its producer
 *   writes (one pass instead of a reorder to plain and a transpose);
 * - exp(x) / ReduceSum(exp(x)) along one axis, after an optional x − ReduceMax(x): one softmax
 *   (fuse_softmax.ts), before the passes above.
 * Every fused layer stays listed: it is reported as run inside the op that absorbed it.
 */
import { numel } from "../../graph/ops/util";
import { ExecutedLayer } from "../plugin";
import { NativeAttr, NativeOpSpec } from "../native";
import { LoweredProgram } from "../lower";
import { fuseSeparable } from "./fuse_sepconv";
import { fuseSoftmax } from "./fuse_softmax";
import { FusedProgram, ProgramEdit, same } from "./program_edit";

export type { FusedProgram } from "./program_edit";

/** Unary ops oneDNN applies as eltwise post-ops, and the post item for their attributes. */
function eltwiseItem(attrs: Record<string, NativeAttr>): string | undefined {
  const op = attrs.op as string;
  switch (op) {
    case "relu":
    case "sigmoid":
    case "tanh":
    case "exp":
    case "log":
    case "abs":
    case "sqrt":
    case "neg":
    case "hswish":
    case "softplus":
    case "mish":
      return op;
    case "leakyrelu":
    case "elu":
      return `${op}:${attrs.alpha}`;
    case "swish":
      return `swish:${attrs.beta}`;
    case "clamp":
      return `clamp:${attrs.min}:${attrs.max}`;
    case "gelu":
      return attrs.approximation === "tanh" ? "gelu_tanh" : "gelu";
    default:
      return undefined;
  }
}

const BINARY_POST = new Set(["add", "sub", "mul", "div", "max", "min"]);

class Fuser extends ProgramEdit {
  /**
   * Values per channel of a constant operand broadcast against an output of `shape` along axis 1
   * (numpy: right-aligned shapes), or undefined when it varies along another axis.
   */
  perChannel(t: number, shape: number[]): Float32Array | undefined {
    const c = this.tensors[t];
    if (!c.data || shape.length < 2 || c.shape.length > shape.length) return undefined;
    const padded = [...Array(shape.length - c.shape.length).fill(1), ...c.shape];
    if (padded.some((d, i) => d !== 1 && i !== 1)) return undefined;
    const C = shape[1];
    if (padded[1] === C) return c.data;
    if (padded[1] === 1) return new Float32Array(C).fill(c.data[0]);
    return undefined;
  }

  /** Constants this pass created: their data may change in place. */
  private readonly own = new Set<number>();

  /**
   * Input `slot` of op `opIndex` as a constant of this pass's own (the lowered constants share
   * their data with the network's graph, which must not change).
   */
  ownConst(opIndex: number, slot: number): number {
    const op = this.ops[opIndex]!;
    const t = op.inputs[slot];
    if (this.own.has(t)) return t;
    op.inputs[slot] = this.addConst(this.tensors[t].shape, Float32Array.from(this.tensors[t].data!));
    return op.inputs[slot];
  }

  addConst(shape: number[], data: Float32Array): number {
    this.tensors.push({ shape, batched: false, data });
    this.own.add(this.tensors.length - 1);
    return this.tensors.length - 1;
  }

  /** Moves op `j` into op `i`: i now writes what j wrote, j's layer is listed under i. */
  absorb(i: number, j: number): void {
    this.ops[i]!.outputs = [...this.ops[j]!.outputs];
    this.moveLayers(i, j);
  }

  postItems(op: NativeOpSpec): string[] {
    const post = op.attrs.post as string | undefined;
    return post ? post.split(";") : [];
  }

  addPost(op: NativeOpSpec, item: string, operand?: number): void {
    op.attrs = { ...op.attrs, post: [...this.postItems(op), item].join(";") };
    if (operand !== undefined) op.inputs = [...op.inputs, operand];
  }

  /** A [1, C, 1, ...] constant holding per-channel values, as post-op operands take them. */
  channelConst(values: Float32Array, rank: number): number {
    const shape = Array(rank).fill(1);
    shape[1] = values.length;
    return this.addConst(shape, Float32Array.from(values));
  }

  run(): FusedProgram {
    for (let i = 0; i < this.ops.length; i++) if (this.ops[i]?.type === "conv") this.foldInputAffine(i);
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i];
      if (!op) continue;
      if (op.type === "conv") this.fuseConv(i);
      else if (op.type === "matmul" && this.shape(op.outputs[0]).length === 2) this.fusePost(i);
      else if (op.type === "pool") this.fusePost(i);
      else if (this.affineInput(op) !== undefined) this.collapseAffine(i, this.affineInput(op)!);
      else if (op.type === "binary" && this.binaryHost(op)) this.fusePost(i);
      else if (op.type === "transpose" && (op.attrs.perm as number[]).join() === "0,2,3,1") toNhwc(op);
    }
    return this.result();
  }

  /** oneDNN binary (which takes post-ops) runs when a has the output's shape. */
  binaryHost(op: NativeOpSpec): boolean {
    const y = this.shape(op.outputs[0]);
    return BINARY_POST.has(op.attrs.op as string) && op.inputs.length === 2 && y.length > 0 && same(this.shape(op.inputs[0]), y);
  }

  fuseConv(i: number): void {
    const conv = this.ops[i]!;
    // Affine ops right after the conv change its weights and bias while no post-op exists yet.
    for (;;) {
      const j = this.soleConsumer(conv.outputs[0]);
      const step = j === undefined || this.postItems(conv).length ? undefined : this.affineOf(this.ops[j]!, conv.outputs[0]);
      if (!step) break;
      this.scaleConv(i, step.s);
      this.shiftConv(i, step.t);
      this.absorb(i, j!);
    }
    // A residual add becomes `sum`, which oneDNN's jit kernels take only as the first post-op.
    const j = this.soleConsumer(conv.outputs[0]);
    if (j !== undefined && !this.postItems(conv).length) {
      const next = this.ops[j]!;
      const y = this.shape(conv.outputs[0]);
      if (next.type === "binary" && next.attrs.op === "add" && same(this.shape(next.outputs[0]), y)) {
        const other = next.inputs[0] === conv.outputs[0] ? next.inputs[1] : next.inputs[0];
        const from = this.producer(other);
        if (!this.tensors[other].data && same(this.shape(other), y) && from < i) {
          this.addPost(conv, "sum", other);
          this.absorb(i, j);
        }
      }
    }
    this.fusePost(i);
    if (this.fuseOutputAffine(i)) this.fusePost(i);
  }

  /**
   * Per-channel constant multiply/add ops after conv i's activation (a batch norm placed after the
   * ReLU) become post-ops instead of an `affine` step of their own. A positive scale after ReLU or
   * leaky ReLU goes into the weights and bias instead (s·relu(y) = relu(s·y) for s > 0), so that
   * mostly one binary add remains. The add costs about what the separate pass did (less in brgconv
   * at n = 1, up to twice in the AVX2 kernels), but the step and its thread barrier go away.
   */
  fuseOutputAffine(i: number): boolean {
    const conv = this.ops[i]!;
    const items = this.postItems(conv);
    if (!items.length || this.quantizedInput(i)) return false;
    const affine = this.absorbAffineAfter(i);
    if (!affine) return false;
    const { scale, shift } = affine;
    const rank = this.shape(conv.outputs[0]).length;
    const homogeneous = items.every((it) => it === "relu" || it.startsWith("leakyrelu:"));
    if (homogeneous && scale.every((v) => v > 0)) this.scaleConv(i, Float32Array.from(scale));
    else if (scale.some((v) => v !== 1)) this.addPost(conv, "mul", this.channelConst(Float32Array.from(scale), rank));
    if (shift.some((v) => v !== 0)) this.addPost(conv, "add", this.channelConst(Float32Array.from(shift), rank));
    return true;
  }

  /**
   * Whether conv i reads a FakeQuantize's output: the int8 pass (int8.ts) makes it a qconv, and a
   * qconv given these binary post-ops computed wrong results (quantized landmarks 0.34 off
   * onnxruntime, and batch-dependent; cause not yet found), so its affine stays an op.
   */
  quantizedInput(i: number): boolean {
    const j = this.producer(this.ops[i]!.inputs[0]);
    return j >= 0 && this.ops[j]!.type === "fake_quantize";
  }

  /**
   * Activations after op i become its post-ops; after a 2-D matmul, per-channel constant binary
   * ops too (a conv takes them in fuseOutputAffine). (oneDNN 2.6's binary post-ops slow a binary or
   * pooling primitive by 5-10x; gemm applies them in a cheap pass of its own.)
   */
  fusePost(i: number): void {
    const host = this.ops[i]!;
    const binaries = host.type === "matmul";
    for (;;) {
      const j = this.soleConsumer(host.outputs[0]);
      if (j === undefined) return;
      const next = this.ops[j]!;
      const y = this.shape(host.outputs[0]);
      if (!same(this.shape(next.outputs[0]), y)) return;
      if (next.type === "unary") {
        const item = eltwiseItem(next.attrs);
        if (!item) return;
        this.addPost(host, item);
      } else if (next.type === "prelu" && numel(this.shape(next.inputs[1])) === 1 && this.tensors[next.inputs[1]].data) {
        this.addPost(host, `leakyrelu:${this.tensors[next.inputs[1]].data![0]}`);
      } else if (binaries && next.type === "binary" && BINARY_POST.has(next.attrs.op as string)) {
        const first = next.inputs[0] === host.outputs[0];
        const kind = next.attrs.op as string;
        if (!first && (kind === "sub" || kind === "div")) return;
        const v = this.perChannel(first ? next.inputs[1] : next.inputs[0], y);
        if (!v) return;
        this.addPost(host, kind, this.channelConst(v, y.length));
      } else {
        return;
      }
      this.absorb(i, j);
    }
  }

  /**
   * What op applies to its input tensor x when it is y = x·s + t per channel: a batch norm, or a
   * mul/add (either operand order) or sub/div (x first) with a per-channel constant.
   */
  affineOf(op: NativeOpSpec, x: number): { s: Float32Array; t: Float32Array } | undefined {
    const y = this.shape(op.outputs[0]);
    if (y.length < 2 || !same(this.shape(x), y)) return undefined;
    const C = y[1];
    if (op.type === "batchnorm" && op.inputs[0] === x) {
      const [gamma, beta, mean, variance] = op.inputs.slice(1).map((t) => this.tensors[t].data!);
      const s = new Float32Array(C);
      const t = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        s[c] = gamma[c] / Math.sqrt(variance[c] + (op.attrs.epsilon as number));
        t[c] = beta[c] - mean[c] * s[c];
      }
      return { s, t };
    }
    const kind = op.attrs.op as string;
    if (op.type !== "binary" || op.inputs.length !== 2 || !op.inputs.includes(x) || op.inputs[0] === op.inputs[1])
      return undefined;
    const first = op.inputs[0] === x;
    if (!first && (kind === "sub" || kind === "div")) return undefined;
    const v = this.perChannel(first ? op.inputs[1] : op.inputs[0], y);
    if (!v) return undefined;
    const ones = new Float32Array(C).fill(1);
    const zeros = new Float32Array(C);
    switch (kind) {
      case "mul":
        return { s: v, t: zeros };
      case "div":
        return { s: v.map((u) => 1 / u), t: zeros };
      case "add":
        return { s: ones, t: v };
      case "sub":
        return { s: ones, t: v.map((u) => -u) };
      default:
        return undefined;
    }
  }

  /** The input of op that it transforms per channel (see affineOf), if any. */
  affineInput(op: NativeOpSpec): number | undefined {
    return op.inputs.slice(0, 2).find((x) => !this.tensors[x].data && this.affineOf(op, x));
  }

  /**
   * The per-channel affine ops after op i, each the sole reader of the one before, absorbed into
   * op i: `start` (if given) followed by their composition, or undefined if there is nothing.
   */
  absorbAffineAfter(i: number, start?: Affine): Affine | undefined {
    const op = this.ops[i]!;
    let affine = start;
    for (;;) {
      const j = this.soleConsumer(op.outputs[0]);
      const step = j === undefined ? undefined : this.affineOf(this.ops[j]!, op.outputs[0]);
      if (!step) return affine;
      affine ??= { scale: new Float64Array(step.s.length).fill(1), shift: new Float64Array(step.s.length) };
      thenAffine(affine, step);
      this.absorb(i, j!);
    }
  }

  /** Op i and the per-channel affine ops after it become one affine op of x: x·s + t. */
  collapseAffine(i: number, x: number): void {
    const op = this.ops[i]!;
    const { s, t } = this.affineOf(op, x)!;
    const { scale, shift } = this.absorbAffineAfter(i, { scale: Float64Array.from(s), shift: Float64Array.from(t) })!;
    const C = scale.length;
    op.type = "affine";
    op.inputs = [x, this.addConst([C], Float32Array.from(scale)), this.addConst([C], Float32Array.from(shift))];
    op.attrs = {};
  }

  /**
   * Per-channel constant Multiply / Add ops whose only reader is conv i fold into its weights
   * (input channels) and bias, nearest first: conv(x·s) = conv_{w·s}(x), and without padding
   * conv(x + t) = conv(x) + Σ w·t.
   */
  foldInputAffine(i: number): void {
    const conv = this.ops[i]!;
    const unpadded = [...(conv.attrs.padsBegin as number[]), ...(conv.attrs.padsEnd as number[])].every((p) => p === 0);
    for (;;) {
      const j = this.producer(conv.inputs[0]);
      if (j < 0 || this.soleConsumer(conv.inputs[0]) !== i) return;
      const op = this.ops[j]!;
      const x = this.affineInput(op);
      const step = x === undefined ? undefined : this.affineOf(op, x);
      if (!step) return;
      const shifts = step.t.some((v) => v !== 0);
      if (shifts && !unpadded) return this.packInputAffine(i);
      // conv(x·s + t) = conv_{w·s}(x) + Σ w·t: the shift uses the weights before scaling.
      if (shifts) this.shiftConvInput(i, step.t);
      this.scaleConvInput(i, step.s);
      conv.inputs = [x!, ...conv.inputs.slice(1)];
      this.moveLayers(i, j);
    }
  }

  /**
   * A padded conv i reading a program input through per-channel multiply/add ops (the network's
   * input normalization, whose shift cannot fold into the weights where the padding would see it):
   * the conv applies them itself (preScale, preShift) while it converts the plain input into its
   * kernel's layout, so that neither an affine step nor a reorder step runs before it.
   */
  packInputAffine(i: number): void {
    const conv = this.ops[i]!;
    if (this.shape(conv.inputs[0]).length !== 4) return;
    const chain: number[] = [];
    let x = conv.inputs[0];
    for (;;) {
      const j = this.producer(x);
      const input = j < 0 ? undefined : this.affineInput(this.ops[j]!);
      if (input === undefined || this.soleConsumer(x) !== (chain.length ? chain[chain.length - 1] : i)) break;
      chain.push(j);
      x = input;
    }
    if (!chain.length || !this.p.spec.inputs.includes(x)) return;
    const C = this.shape(x)[1];
    const affine: Affine = { scale: new Float64Array(C).fill(1), shift: new Float64Array(C) };
    for (const j of chain.reverse()) {
      const op = this.ops[j]!;
      thenAffine(affine, this.affineOf(op, this.affineInput(op)!)!);
      this.moveLayers(i, j);
    }
    conv.inputs = [x, ...conv.inputs.slice(1)];
    conv.attrs = {
      ...conv.attrs,
      preScale: Array.from(affine.scale, Math.fround),
      preShift: Array.from(affine.shift, Math.fround),
    };
  }

  /** For each weight of conv i: its input channel (groups split the input channels evenly). */
  inputChannel(i: number): (index: number) => number {
    const conv = this.ops[i]!;
    const w = this.shape(conv.inputs[1]);
    const group = (conv.attrs.group as number | undefined) ?? 1;
    const perGroupOut = w[0] / group;
    const kernel = numel(w.slice(2));
    return (index) => {
      const o = Math.floor(index / (w[1] * kernel));
      const ci = Math.floor(index / kernel) % w[1];
      return Math.floor(o / perGroupOut) * w[1] + ci;
    };
  }

  scaleConvInput(i: number, s: Float32Array): void {
    const w = this.tensors[this.ownConst(i, 1)].data!;
    const channel = this.inputChannel(i);
    for (let k = 0; k < w.length; k++) w[k] *= s[channel(k)];
  }

  shiftConvInput(i: number, t: Float32Array): void {
    const conv = this.ops[i]!;
    const w = this.tensors[conv.inputs[1]].data!;
    const O = this.shape(conv.inputs[1])[0];
    const per = w.length / O;
    const channel = this.inputChannel(i);
    const add = new Float32Array(O);
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let k = o * per; k < (o + 1) * per; k++) acc += w[k] * t[channel(k)];
      add[o] = acc;
    }
    this.shiftConv(i, add);
  }

  scaleConv(i: number, s: Float32Array): void {
    const conv = this.ops[i]!;
    const w = this.tensors[this.ownConst(i, 1)];
    const per = numel(w.shape) / w.shape[0];
    const data = w.data!;
    for (let o = 0; o < w.shape[0]; o++) for (let k = 0; k < per; k++) data[o * per + k] *= s[o];
    if (conv.inputs.length > 2) {
      const b = this.tensors[this.ownConst(i, 2)].data!;
      for (let o = 0; o < b.length; o++) b[o] *= s[o];
    }
  }

  shiftConv(i: number, t: Float32Array): void {
    const conv = this.ops[i]!;
    if (conv.inputs.length < 3) {
      conv.inputs = [...conv.inputs, this.addConst([t.length], Float32Array.from(t))];
      return;
    }
    const b = this.tensors[this.ownConst(i, 2)].data!;
    for (let o = 0; o < b.length; o++) b[o] += t[o];
  }
}

/** A Transpose [0, 2, 3, 1] becomes a reorder writing its input as nhwc (native/src/ops/dnnl_reorder.cc). */
/** A per-channel x·scale + shift, composed in float64. */
interface Affine {
  scale: Float64Array;
  shift: Float64Array;
}

/** a becomes a followed by step: (x·a.scale + a.shift)·s + t. */
function thenAffine(a: Affine, step: { s: Float32Array; t: Float32Array }): void {
  for (let c = 0; c < a.scale.length; c++) {
    a.scale[c] *= step.s[c];
    a.shift[c] = a.shift[c] * step.s[c] + step.t[c];
  }
}

function toNhwc(op: NativeOpSpec): void {
  op.type = "reorder";
  op.attrs = { from: "any", to: "nhwc", permuted: 1 };
}

/**
 * Mean or max over the spatial axes of a 4-D tensor (a global pool) as oneDNN pooling, which reads
 * the blocked layout of the conv before it; without keepDims a view drops the 1x1 axes.
 */
function globalPools(p: LoweredProgram): LoweredProgram {
  const ops: NativeOpSpec[] = [];
  const layers: ExecutedLayer[] = [];
  const tensors = [...p.spec.tensors];
  p.spec.ops.forEach((op, i) => {
    const x = tensors[op.inputs[0]]?.shape;
    const axes = op.attrs.axes as number[] | undefined;
    const kind = op.attrs.op === "mean" ? "avg" : op.attrs.op === "max" ? "max" : undefined;
    if (op.type !== "reduce" || !kind || x.length !== 4 || axes?.join() !== "2,3") {
      ops.push(op);
      layers.push(p.layers[i]);
      return;
    }
    const y = tensors[op.outputs[0]];
    let out = op.outputs[0];
    if (!op.attrs.keepDims) {
      out = tensors.length;
      tensors.push({ shape: [...x.slice(0, 2), 1, 1], batched: y.batched });
    }
    ops.push({
      ...op,
      type: "pool",
      outputs: [out],
      attrs: { kind, kernel: x.slice(2), strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], excludePad: 1 },
    });
    layers.push(p.layers[i]);
    if (out !== op.outputs[0]) {
      ops.push({ type: "copy", name: `${op.name}/squeeze`, inputs: [out], outputs: [...op.outputs], attrs: {} });
      layers.push({ name: `${op.name}/squeeze`, type: "Squeeze", execType: "copy" });
    }
  });
  return { ...p, spec: { ...p.spec, tensors, ops }, layers };
}

/** Fuses a lowered program; the input is left unchanged except for constants only it holds. */
export function fuseProgram(p: LoweredProgram): FusedProgram {
  const copy = globalPools(p);
  copy.spec.ops = copy.spec.ops.map((o) => ({ ...o, inputs: [...o.inputs], outputs: [...o.outputs] }));
  return fuseSeparable(new Fuser(fuseSoftmax(copy)).run());
}
