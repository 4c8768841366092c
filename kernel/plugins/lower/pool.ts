/** MaxPool and AvgPool, with ceil rounding and the Inference Engine's averaging over pads. */
import { Node } from "../../graph/graph";
import { attrBool, attrInts } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering, LowerFn } from "./lowering";
import { windowPads } from "../../graph/window";
import { lift, liftInput, liftOutput } from "./lift";

function pool(L: Lowering, n: Node): void {
  const xs = L.inShape(n, 0);
  if (xs.length < 3 || xs.length > 5)
    throw new UnsupportedError(L.file, `only 1-D, 2-D and 3-D pooling are implemented (input rank ${xs.length})`, n.name);
  if (L.usedOutputs.has(`${n.id}:1`)) throw new UnsupportedError(L.file, "MaxPool indices output is not implemented", n.name);
  const kernel = attrInts(n.attrs, "kernel");
  const strides = attrInts(n.attrs, "strides");
  const dil = attrInts(
    n.attrs,
    "dilations",
    kernel.map(() => 1),
  );
  const outSp = n.outputs[0].shape.slice(2);
  const { begin: explicitBegin, end } = windowPads(n, xs.slice(2), outSp, kernel, strides, dil);
  let begin = explicitBegin;
  // Ceil rounding (and any shape the model states) becomes extra padding at the end.
  let padsEnd = end.map((e, i) => Math.max(e, (outSp[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - xs[2 + i] - begin[i]));
  let x = L.tensor(n.inputs[0]);
  let excludePad = attrBool(n.attrs, "exclude-pad", false);
  // An average counts the model's pads but never the ceil extension beyond them, while oneDNN's
  // include_padding counts every padded element: pad explicitly with zeros, then exclude the rest.
  if (n.type === "AvgPool" && !excludePad && padsEnd.some((p, i) => p > end[i])) {
    if ([...begin, ...end].some((p) => p > 0)) {
      const shape = [xs[0], xs[1], ...xs.slice(2).map((d, i) => d + begin[i] + end[i])];
      const padded = L.activation(shape, L.isBatched(n.inputs[0]));
      L.emit({ ...n, name: `${n.name}/pad` }, "pad", [x], [padded], {
        padsBegin: [0, 0, ...begin],
        padsEnd: [0, 0, ...end],
        mode: "constant",
        value: 0,
      });
      x = padded;
      padsEnd = padsEnd.map((p, i) => p - end[i]);
      begin = begin.map(() => 0);
    }
    excludePad = true;
  }
  const kind = n.type === "MaxPool" ? "max" : "avg";
  if (xs.length === 3) {
    // 1-D: the 2-D pool with a height of 1 (after any explicit padding above, which is 1-D).
    const xShape = x === L.tensor(n.inputs[0]) ? xs : L.tensors[x].shape;
    const out = liftOutput(L, n);
    L.emit(n, "pool", [liftInput(L, n, x, xShape)], [out.tensor], {
      kind,
      kernel: lift(kernel, 1),
      strides: lift(strides, 1),
      dilations: lift(dil, 1),
      padsBegin: lift(begin, 0),
      padsEnd: lift(padsEnd, 0),
      excludePad: excludePad ? 1 : 0,
    });
    return out.finish();
  }
  L.emit(n, "pool", [x], [L.out(n)], {
    kind,
    kernel,
    strides,
    dilations: dil,
    padsBegin: begin,
    padsEnd,
    excludePad: excludePad ? 1 : 0,
  });
}

export const POOLING: Record<string, LowerFn> = { MaxPool: pool, AvgPool: pool };
