/** MaxPool and AvgPool, with ceil rounding and the Inference Engine's averaging over pads. */
import { Node } from "../../graph/graph";
import { attrBool, attrInts } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering, LowerFn } from "./lowering";
import { windowPads } from "../../graph/window";

function pool(L: Lowering, n: Node): void {
  const xs = L.inShape(n, 0);
  if (xs.length !== 4) throw new UnsupportedError(L.file, `only 2-D pooling is implemented`, n.name);
  if (L.usedOutputs.has(`${n.id}:1`)) throw new UnsupportedError(L.file, "MaxPool indices output is not implemented", n.name);
  const kernel = attrInts(n.attrs, "kernel");
  const strides = attrInts(n.attrs, "strides");
  const dil = attrInts(n.attrs, "dilations", [1, 1]);
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
  L.emit(n, "pool", [x], [L.out(n)], {
    kind: n.type === "MaxPool" ? "max" : "avg",
    kernel,
    strides,
    dilations: dil,
    padsBegin: begin,
    padsEnd,
    excludePad: excludePad ? 1 : 0,
  });
}

export const POOLING: Record<string, LowerFn> = { MaxPool: pool, AvgPool: pool };
