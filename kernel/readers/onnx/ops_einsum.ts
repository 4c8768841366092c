/**
 * Einsum as the exporters write it for attention and linear layers: one operand (a transpose
 * and/or a sum over letters), or two operands without diagonals or ellipses. Such an Einsum is
 * Transpose → MatMul → Transpose, with size-1 axes standing in for missing letters so MatMul's
 * broadcasting does the rest, and a ReduceSum for contracted letters beyond the first; no
 * dimension needs to be known at read.
 */
import { PortRef } from "../../graph/graph";
import { ReadCtx } from "./context";
import { bool } from "./format";

interface Equation {
  inputs: string[];
  output: string;
}

function parse(c: ReadCtx, text: string, operands: number): Equation {
  const eq = text.replace(/\s+/g, "");
  if (eq.includes(".")) throw c.unsupported(`equation '${text}': an ellipsis is not supported`);
  const [lhs, explicit] = eq.split("->");
  const inputs = lhs.split(",");
  if (inputs.length !== operands)
    throw c.unsupported(`equation '${text}' names ${inputs.length} operand(s), the node has ${operands}`);
  for (const t of [...inputs, explicit ?? ""]) {
    if (!/^[a-zA-Z]*$/.test(t)) throw c.unsupported(`equation '${text}' has a term '${t}' that is not letters`);
    if (new Set(t).size !== t.length)
      throw c.unsupported(`equation '${text}': a letter repeated in '${t}' (a diagonal) is not supported`);
  }
  // Implicit output: the letters that appear once, in alphabetical order.
  const once = [...new Set(inputs.join(""))].filter((l) => inputs.join("").split(l).length === 2).sort();
  return { inputs, output: explicit ?? once.join("") };
}

/** Transposes `x` (letters `from`) to `to`, which holds the same letters; no node when already in order. `suffix` "" names it after the Einsum. */
function arrange(c: ReadCtx, x: PortRef, from: string, to: string, suffix: string): PortRef {
  if (from === to) return x;
  const perm = [...to].map((l) => from.indexOf(l));
  return c.op("Transpose", [x, c.i64(`${suffix}_perm`, perm)], {}, suffix);
}

/** Brings `x` (letters `from`) to `to`: its letters transposed into place, size-1 axes where `to` has a digit. */
function place(c: ReadCtx, x: PortRef, from: string, to: string, suffix: string): PortRef {
  const y = arrange(c, x, from, to.replace(/[0-9]/g, ""), `${suffix}_order`);
  const ones = [...to].flatMap((l, i) => (/[0-9]/.test(l) ? [i] : []));
  return ones.length === 0 ? y : c.op("Unsqueeze", [y, c.i64(`${suffix}_ones`, ones)], {}, `${suffix}_ones`);
}

/** Sums `x` (letters `from`) over the letters not in `keep`; returns the port and its letters. */
function sumOut(c: ReadCtx, x: PortRef, from: string, keep: (l: string) => boolean, suffix: string): [PortRef, string] {
  const gone = [...from].flatMap((l, i) => (keep(l) ? [] : [i]));
  if (gone.length === 0) return [x, from];
  const y = c.op("ReduceSum", [x, c.i64(`${suffix}_axes`, gone)], { keep_dims: bool(false) }, suffix);
  return [y, [...from].filter(keep).join("")];
}

/** Contracts two operands into `out`'s letters; `tag` keeps the node names of several pairs apart. */
function pair(c: ReadCtx, x: PortRef, tx: string, z: PortRef, tz: string, out: string, tag: string): PortRef {
  // A letter in one operand only and not in the output is summed out of that operand first.
  const [a0, la] = sumOut(c, x, tx, (l) => tz.includes(l) || out.includes(l), `${tag}sum_a`);
  const [b0, lb] = sumOut(c, z, tz, (l) => la.includes(l) || out.includes(l), `${tag}sum_b`);
  const batch = [...out].filter((l) => la.includes(l) && lb.includes(l));
  const k = [...la].filter((l) => lb.includes(l) && !out.includes(l));
  // Free letters in output order: the last is the matrix row (A) or column (B), the others batch-like.
  const freeA = [...out].filter((l) => la.includes(l) && !lb.includes(l));
  const freeB = [...out].filter((l) => lb.includes(l) && !la.includes(l));
  // A missing letter becomes a size-1 axis: placeholders no equation letter can be.
  const holders = [..."0123456789"];
  const holder = () => holders.shift()!;
  // Contracted letters beyond the first ride along as batch letters and are summed after the MatMul.
  const K = k.pop() ?? holder();
  const M = freeA.pop() ?? holder();
  const N = freeB.pop() ?? holder();
  // The other side's batch-like letters are size-1 axes here, so MatMul's broadcasting lines them up.
  const extraA = freeA.join("");
  const extraB = freeB.join("");
  const onesA = [...extraA].map(holder).join("");
  const onesB = [...extraB].map(holder).join("");
  const shared = batch.join("") + k.join("");
  const a = place(c, a0, la, shared + extraA + onesB + M + K, `${tag}a`);
  const b = place(c, b0, lb, shared + onesA + extraB + K + N, `${tag}b`);
  let y = c.op("MatMul", [a, b], { transpose_a: "false", transpose_b: "false" }, `${tag}matmul`);
  let letters = shared + extraA + extraB + M + N;
  const dummies = [...letters].flatMap((l, i) => (/[0-9]/.test(l) ? [i] : []));
  if (dummies.length > 0) {
    y = c.op("Squeeze", [y, c.i64(`${tag}squeeze_axes`, dummies)], {}, `${tag}squeeze`);
    letters = letters.replace(/[0-9]/g, "");
  }
  [y, letters] = sumOut(c, y, letters, (l) => !k.includes(l), `${tag}sum_k`);
  return arrange(c, y, letters, out, tag ? `${tag}order` : "");
}

export function einsum(c: ReadCtx): PortRef[] {
  const operands = c.all();
  const eq = parse(c, c.str("equation"), operands.length);
  const out = eq.output;
  const [t0, t1, t2] = eq.inputs;
  if (operands.length === 1) {
    const [x, letters] = sumOut(c, operands[0], t0, (l) => out.includes(l), "sum");
    return [arrange(c, x, letters, out, "")];
  }
  if (operands.length === 2) return [pair(c, operands[0], t0, operands[1], t1, out, "")];
  if (operands.length !== 3) throw c.unsupported(`${operands.length} operands: 1 to 3 are supported`);
  // Left to right: the first two keep the letters the third operand or the output still needs.
  const kept = [...new Set(t0 + t1)].filter((l) => t2.includes(l) || out.includes(l)).join("");
  const first = pair(c, operands[0], t0, operands[1], t1, kept, "first_");
  return [pair(c, first, kept, operands[2], t2, out, "")];
}
