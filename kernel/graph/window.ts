import { attrInts, attrStr } from "./attrs";
import { Node } from "./graph";

/**
 * Explicit begin/end pads of a sliding window (convolution, pooling), resolving auto_pad from the
 * inferred output size. `inSp`/`outSp` are the spatial dims only.
 */
export function windowPads(
  n: Node,
  inSp: number[],
  outSp: number[],
  kernel: number[],
  strides: number[],
  dil: number[],
): { begin: number[]; end: number[] } {
  const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
  const r = inSp.length;
  if (autoPad === "valid") return { begin: new Array<number>(r).fill(0), end: new Array<number>(r).fill(0) };
  if (autoPad === "same_upper" || autoPad === "same_lower") {
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < r; i++) {
      const total = Math.max((outSp[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - inSp[i], 0);
      const small = Math.floor(total / 2);
      begin.push(autoPad === "same_upper" ? small : total - small);
      end.push(total - begin[i]);
    }
    return { begin, end };
  }
  return {
    begin: attrInts(n.attrs, "pads_begin", new Array(r).fill(0)),
    end: attrInts(n.attrs, "pads_end", new Array(r).fill(0)),
  };
}
