/**
 * Fusion of the lowered op list for oneDNN (native/OPS.md, "post"): a tensor with a single
 * consumer that is not a program output disappears into its producer.
 * - conv → per-channel Add/Subtract of a constant: folded into the bias; Multiply/Divide by a
 *   per-channel constant or BatchNorm (before any post-op): folded into weights and bias;
 * - conv → Add of a same-shaped tensor computed earlier (a residual): the `sum` post-op;
 * - conv, matmul (2-D) or binary → activation (PReLU with one slope as leaky ReLU) or a
 *   per-channel constant binary op: eltwise / binary post-ops;
 * - conv → MaxPool (or AvgPool without padding in the divisor) → per-channel constant Add, or
 *   Multiply by positive values: the affine op moves before the pool (max(s·x + t) = s·max(x) + t
 *   for s > 0) and into the conv's post-ops.
 * Every fused layer stays listed: it is reported as run inside the op that absorbed it.
 */
import { ExecutedLayer } from "../plugin";
import { NativeAttr, NativeOpSpec, NativeTensorSpec } from "./native";
import { LoweredProgram } from "./lower";

export interface FusedProgram extends LoweredProgram {
  /** Per op of spec.ops: the layers fused into it (layers[i] stays the op's own layer). */
  fused: ExecutedLayer[][];
}

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

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

class Fuser {
  readonly ops: (NativeOpSpec | null)[];
  readonly layers: ExecutedLayer[];
  readonly fused: ExecutedLayer[][];
  readonly outputs: Set<number>;

  constructor(private readonly p: LoweredProgram) {
    this.ops = [...p.spec.ops];
    this.layers = [...p.layers];
    this.fused = p.spec.ops.map(() => []);
    this.outputs = new Set(p.spec.outputs);
  }

  get tensors(): NativeTensorSpec[] {
    return this.p.spec.tensors;
  }

  /** Ops reading tensor t (each reading op once). */
  consumers(t: number): number[] {
    const out: number[] = [];
    this.ops.forEach((op, i) => op && op.inputs.includes(t) && out.push(i));
    return out;
  }

  producer(t: number): number {
    return this.ops.findIndex((op) => op !== null && op.outputs.includes(t));
  }

  /** The single op that reads t, when t is not a program output and nothing else reads it. */
  soleConsumer(t: number): number | undefined {
    if (this.outputs.has(t)) return undefined;
    const c = this.consumers(t);
    if (c.length !== 1) return undefined;
    const op = this.ops[c[0]]!;
    return op.inputs.filter((x) => x === t).length === 1 ? c[0] : undefined;
  }

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
    const host = this.ops[i]!;
    host.outputs = [...this.ops[j]!.outputs];
    this.fused[i].push({ ...this.layers[j], fusedInto: this.layers[i].name }, ...this.fused[j].map((l) => ({ ...l, fusedInto: this.layers[i].name })));
    this.ops[j] = null;
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
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i];
      if (!op) continue;
      if (op.type === "conv") this.fuseConv(i);
      else if (op.type === "matmul" && this.shape(op.outputs[0]).length === 2) this.fusePost(i);
      else if (op.type === "binary" && this.binaryHost(op)) this.fusePost(i);
    }
    const keep = this.ops.map((o, i) => (o ? i : -1)).filter((i) => i >= 0);
    return {
      ...this.p,
      spec: { ...this.p.spec, ops: keep.map((i) => this.ops[i]!) },
      layers: keep.map((i) => this.layers[i]),
      fused: keep.map((i) => this.fused[i]),
    };
  }

  shape(t: number): number[] {
    return this.tensors[t].shape;
  }

  /** oneDNN binary (which takes post-ops) runs when a has the output's shape. */
  binaryHost(op: NativeOpSpec): boolean {
    const y = this.shape(op.outputs[0]);
    return BINARY_POST.has(op.attrs.op as string) && op.inputs.length === 2 && y.length > 0 && same(this.shape(op.inputs[0]), y);
  }

  fuseConv(i: number): void {
    const conv = this.ops[i]!;
    const O = this.shape(conv.outputs[0])[1];
    // Affine ops right after the conv change its weights and bias while no post-op exists yet.
    for (;;) {
      const j = this.soleConsumer(conv.outputs[0]);
      if (j === undefined || this.postItems(conv).length) break;
      const next = this.ops[j]!;
      const y = this.shape(conv.outputs[0]);
      if (next.type === "batchnorm" && next.inputs[0] === conv.outputs[0]) {
        const [gamma, beta, mean, variance] = next.inputs.slice(1).map((t) => this.tensors[t].data!);
        const eps = next.attrs.epsilon as number;
        const scale = new Float32Array(O);
        const shift = new Float32Array(O);
        for (let c = 0; c < O; c++) {
          scale[c] = gamma[c] / Math.sqrt(variance[c] + eps);
          shift[c] = beta[c] - mean[c] * scale[c];
        }
        this.scaleConv(i, scale);
        this.shiftConv(i, shift);
        this.absorb(i, j);
        continue;
      }
      if (next.type !== "binary" || !same(this.shape(next.outputs[0]), y)) break;
      const first = next.inputs[0] === conv.outputs[0];
      const other = first ? next.inputs[1] : next.inputs[0];
      const v = this.perChannel(other, y);
      if (!v) break;
      const kind = next.attrs.op;
      if (kind === "add" || (kind === "sub" && first)) this.shiftConv(i, kind === "sub" ? v.map((x) => -x) : v);
      else if (kind === "mul" || (kind === "div" && first)) this.scaleConv(i, kind === "div" ? v.map((x) => 1 / x) : v);
      else break;
      this.absorb(i, j);
    }
    // A residual add becomes `sum`, which oneDNN's jit kernels take only as the first post-op.
    const j = this.soleConsumer(conv.outputs[0]);
    if (j !== undefined && !this.postItems(conv).length) {
      const next = this.ops[j]!;
      const y = this.shape(conv.outputs[0]);
      if (next.type === "binary" && next.attrs.op === "add" && same(this.shape(next.outputs[0]), y)) {
        const other = next.inputs[0] === conv.outputs[0] ? next.inputs[1] : next.inputs[0];
        const from = this.producer(other);
        if (!this.tensors[other].data && same(this.shape(other), y) && from < i && !conv.inputs.includes(other)) {
          this.addPost(conv, "sum", other);
          this.absorb(i, j);
        }
      }
    }
    this.fusePost(i);
    this.hoistThroughPool(i);
  }

  /** Activations and per-channel constant binary ops after op i become its post-ops. */
  fusePost(i: number): void {
    const host = this.ops[i]!;
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
      } else if (next.type === "binary" && BINARY_POST.has(next.attrs.op as string)) {
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
   * conv → pool → per-channel affine ops: the affine ops run before the pool as post-ops, where
   * they commute with it (max pool: add, and multiply by positive values; avg pool whose divisor
   * counts only real elements: both).
   */
  hoistThroughPool(i: number): void {
    const conv = this.ops[i]!;
    const p = this.soleConsumer(conv.outputs[0]);
    if (p === undefined) return;
    const pool = this.ops[p]!;
    if (pool.type !== "pool") return;
    const pads = [...(pool.attrs.padsBegin as number[]), ...(pool.attrs.padsEnd as number[])];
    if (pool.attrs.kind !== "max" && pool.attrs.excludePad !== 1 && pads.some((x) => x !== 0)) return;
    const y = this.shape(conv.outputs[0]);
    for (;;) {
      const j = this.soleConsumer(pool.outputs[0]);
      if (j === undefined) return;
      const next = this.ops[j]!;
      const kind = next.attrs.op;
      if (next.type !== "binary" || next.inputs[0] !== pool.outputs[0] || !same(this.shape(next.outputs[0]), this.shape(pool.outputs[0])))
        return;
      const v = this.perChannel(next.inputs[1], this.shape(pool.outputs[0]));
      if (!v || !(kind === "add" || kind === "sub" || kind === "mul")) return;
      if (kind === "mul" && pool.attrs.kind === "max" && !v.every((x) => x > 0)) return;
      this.addPost(conv, kind, this.channelConst(v, y.length));
      pool.outputs = [...next.outputs];
      this.fused[i].push({ ...this.layers[j], fusedInto: this.layers[i].name });
      this.ops[j] = null;
    }
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

function same(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Fuses a lowered program; the input is left unchanged except for constants only it holds. */
export function fuseProgram(p: LoweredProgram): FusedProgram {
  const copy: LoweredProgram = {
    ...p,
    spec: { ...p.spec, tensors: [...p.spec.tensors], ops: p.spec.ops.map((o) => ({ ...o, inputs: [...o.inputs], outputs: [...o.outputs] })) },
  };
  return new Fuser(copy).run();
}
