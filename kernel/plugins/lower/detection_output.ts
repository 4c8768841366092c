/** DetectionOutput (SSD box decoding, per-class NMS and top-k): its attributes as the native op's parameters. */
import { Node } from "../../graph/graph";
import { attrBool, attrInts, attrNum, attrStr } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering, LowerFn } from "./lowering";

function detectionOutput(L: Lowering, n: Node): void {
  if (n.inputs.length > 3) throw new UnsupportedError(L.file, "DetectionOutput with ARM inputs is not implemented", n.name);
  const a = n.attrs;
  const priors = L.inShape(n, 2);
  // Normalized priors are 4 numbers each; non-normalized ones carry a leading batch index too.
  const numPriors = priors[priors.length - 1] / (attrBool(a, "normalized", false) ? 4 : 5);
  const conf = L.inShape(n, 1);
  const numClasses = a.num_classes !== undefined ? attrNum(a, "num_classes") : conf[conf.length - 1] / numPriors;
  L.emit(
    n,
    "detection_output",
    n.inputs.slice(0, 3).map((r) => L.tensor(r)),
    [L.out(n)],
    {
      numClasses,
      backgroundLabelId: attrNum(a, "background_label_id", 0),
      topK: attrNum(a, "top_k", -1),
      keepTopK: attrInts(a, "keep_top_k"),
      nmsThreshold: attrNum(a, "nms_threshold"),
      confidenceThreshold: attrNum(a, "confidence_threshold", 0),
      shareLocation: attrBool(a, "share_location", true) ? 1 : 0,
      varianceEncodedInTarget: attrBool(a, "variance_encoded_in_target", false) ? 1 : 0,
      codeType: attrStr(a, "code_type", "caffe.PriorBoxParameter.CORNER"),
      normalized: attrBool(a, "normalized", false) ? 1 : 0,
      clipBeforeNms: attrBool(a, "clip_before_nms", false) ? 1 : 0,
      clipAfterNms: attrBool(a, "clip_after_nms", false) ? 1 : 0,
      decreaseLabelId: attrBool(a, "decrease_label_id", false) ? 1 : 0,
      inputHeight: attrNum(a, "input_height", 1),
      inputWidth: attrNum(a, "input_width", 1),
      objectnessScore: attrNum(a, "objectness_score", 0),
    },
  );
}

export const DETECTION_OUTPUT: Record<string, LowerFn> = { DetectionOutput: detectionOutput };
