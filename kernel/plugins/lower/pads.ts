/** The explicit pads of a sliding window (convolution, pooling) from its attributes. */
import { Node } from "../../graph/graph";
import { attrInts, attrStr } from "../../graph/attrs";

/** Explicit pads per spatial axis, honouring auto_pad like the Inference Engine (the ONNX writer's windowPads() too). */
export function explicitPads(
  n: Node,
  inSpatial: number[],
  outSpatial: number[],
  kernel: number[],
  strides: number[],
  dil: number[],
) {
  const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
  const rank = inSpatial.length;
  let begin = attrInts(n.attrs, "pads_begin", Array(rank).fill(0));
  let end = attrInts(n.attrs, "pads_end", Array(rank).fill(0));
  if (autoPad === "valid") {
    begin = Array(rank).fill(0);
    end = Array(rank).fill(0);
  } else if (autoPad === "same_upper" || autoPad === "same_lower") {
    begin = [];
    end = [];
    for (let i = 0; i < rank; i++) {
      const span = (kernel[i] - 1) * dil[i] + 1;
      const total = Math.max((outSpatial[i] - 1) * strides[i] + span - inSpatial[i], 0);
      const small = Math.floor(total / 2);
      begin.push(autoPad === "same_upper" ? small : total - small);
      end.push(autoPad === "same_upper" ? total - small : small);
    }
  }
  return { begin, end };
}
