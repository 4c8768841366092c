/**
 * A softmax written out as ops (exp(x) / ReduceSum(exp(x)) along one axis, optionally after
 * x − ReduceMax(x) along it, as exporters decompose it) becomes one `softmax` op: three to five
 * steps (two of them reference kernels) become one, which also subtracts the maximum and so does
 * not overflow where exp(x) would. The Exp, ReduceSum (and Subtract, ReduceMax) layers are listed
 * as run inside the Divide.
 */
import { NativeOpSpec } from "../native";
import { FusedProgram, ProgramEdit, same } from "./program_edit";
import { LoweredProgram } from "../lower";

class SoftmaxFuser extends ProgramEdit {
  run(): FusedProgram {
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i];
      if (op?.type === "binary" && op.attrs.op === "div") this.fuse(i);
    }
    return this.result();
  }

  /** The op writing t when it is `type` (and, for unary, binary and reduce ops, attrs.op is `kind`). */
  producing(t: number, type: string, kind: string): number | undefined {
    const j = this.producer(t);
    return j >= 0 && this.ops[j]!.type === type && this.ops[j]!.attrs.op === kind ? j : undefined;
  }

  /** The axis a keep-dims reduce of `kind` over one axis of x computes along, if op j is one. */
  reduceAxis(j: number, kind: string, x: number): number | undefined {
    const op = this.ops[j]!;
    const axes = op.attrs.axes as number[];
    if (op.type !== "reduce" || op.attrs.op !== kind || op.inputs[0] !== x || !op.attrs.keepDims || axes.length !== 1)
      return undefined;
    return axes[0];
  }

  /** Whether t is not an output and exactly ops a and b read it, each once. */
  readByBoth(t: number, a: number, b: number): boolean {
    if (this.outputs.has(t)) return false;
    const c = this.consumers(t);
    return c.length === 2 && [a, b].every((r) => c.includes(r) && this.ops[r]!.inputs.filter((x) => x === t).length === 1);
  }

  /** Division i = e / sum(e) with e = exp(x) along one axis → softmax(x), x before a max subtraction. */
  fuse(i: number): void {
    const div = this.ops[i]!;
    if (div.inputs.length !== 2) return;
    const [e, s] = div.inputs;
    const exp = this.producing(e, "unary", "exp");
    const sum = this.producer(s);
    if (exp === undefined || sum < 0) return;
    const axis = this.reduceAxis(sum, "sum", e);
    if (axis === undefined || !same(this.shape(div.outputs[0]), this.shape(e))) return;
    if (!this.readByBoth(e, sum, i) || this.soleConsumer(s) !== i) return;
    let x = this.ops[exp]!.inputs[0];
    const absorbed = [exp, sum];
    const shifted = this.maxShifted(x, exp, axis);
    if (shifted) {
      x = shifted.x;
      absorbed.push(...shifted.ops);
    }
    const softmax: NativeOpSpec = { ...div, type: "softmax", inputs: [x], attrs: { axis, log: 0 } };
    this.ops[i] = softmax;
    for (const j of absorbed) this.moveLayers(i, j);
  }

  /** When t = x − ReduceMax(x) along `axis` and only op `reader` reads t: x and the two ops. */
  maxShifted(t: number, reader: number, axis: number): { x: number; ops: number[] } | undefined {
    const sub = this.producing(t, "binary", "sub");
    if (sub === undefined || this.soleConsumer(t) !== reader) return undefined;
    const [x, m] = this.ops[sub]!.inputs;
    const max = this.producer(m);
    if (max < 0 || this.reduceAxis(max, "max", x) !== axis || this.soleConsumer(m) !== sub) return undefined;
    return { x, ops: [sub, max] };
  }
}

/** Replaces written-out softmaxes in a lowered program with `softmax` ops. */
export function fuseSoftmax(p: LoweredProgram): FusedProgram {
  return new SoftmaxFuser(p).run();
}
