#include "detection_output_spec.h"

#include <string>
#include <vector>

namespace dynbatch {

DetectionOutputSpec parseDetectionOutput(const OpSpec& spec) {
  const std::string& name = spec.name;
  if (spec.inputs.size() != 3)
    throw OpError(name, "detection_output: takes loc, conf and priors (the 5-input ARM form is not supported)");
  if (spec.outputs.size() != 1) throw OpError(name, "detection_output: has one output");
  const Attrs& a = spec.attrs;
  DetectionOutputSpec d;
  d.background = a.integer("backgroundLabelId", 0);
  d.topK = a.integer("topK", -1);
  const std::vector<int64_t> keep = a.ints("keepTopK", {-1});
  if (keep.empty()) throw OpError(name, "detection_output: keepTopK is empty");
  d.keepTopK = keep[0];
  d.nmsThreshold = static_cast<float>(a.num("nmsThreshold"));
  d.confThreshold = static_cast<float>(a.num("confidenceThreshold", 0.0));
  d.shareLocation = a.integer("shareLocation", 1) != 0;
  d.varianceInTarget = a.integer("varianceEncodedInTarget", 0) != 0;
  d.normalized = a.integer("normalized", 1) != 0;
  d.clipBefore = a.integer("clipBeforeNms", 0) != 0;
  d.clipAfter = a.integer("clipAfterNms", 0) != 0;
  d.decreaseLabel = a.integer("decreaseLabelId", 0) != 0;
  d.inputHeight = static_cast<float>(a.num("inputHeight", 1.0));
  d.inputWidth = static_cast<float>(a.num("inputWidth", 1.0));
  const std::string code = a.str("codeType", "caffe.PriorBoxParameter.CORNER");
  auto endsWith = [&](const std::string& s) {
    return code.size() >= s.size() && code.compare(code.size() - s.size(), s.size(), s) == 0 &&
           (code.size() == s.size() || code[code.size() - s.size() - 1] == '.');
  };
  if (endsWith("CENTER_SIZE")) d.code = BoxCode::CenterSize;
  else if (endsWith("CORNER_SIZE")) d.code = BoxCode::CornerSize;
  else if (endsWith("CORNER")) d.code = BoxCode::Corner;
  else throw OpError(name, "detection_output: unknown codeType '" + code + "'");
  if (!d.normalized && (d.inputHeight <= 0.f || d.inputWidth <= 0.f))
    throw OpError(name, "detection_output: inputHeight and inputWidth must be positive when boxes are not normalized");
  if (d.topK < -1 || d.topK == 0) throw OpError(name, "detection_output: topK must be positive or -1");

  const Shape& ls = spec.inputs[0]->maxShape;
  const Shape& cs = spec.inputs[1]->maxShape;
  const Shape& ps = spec.inputs[2]->maxShape;
  const Shape& os = spec.outputs[0]->maxShape;
  if (ls.size() != 2 || cs.size() != 2) throw OpError(name, "detection_output: loc and conf must be 2-D [N, ...]");
  if (ps.size() != 3 || (ps[1] != 1 && ps[1] != 2)) throw OpError(name, "detection_output: priors must be [1|N, 1|2, P·4]");
  if (ps[1] == 1 && !d.varianceInTarget)
    throw OpError(name, "detection_output: priors carry no variances but varianceEncodedInTarget is false");
  const int64_t priorSize = d.normalized ? 4 : 5;
  if (ps[2] % priorSize != 0)
    throw OpError(name, "detection_output: priors length is not a multiple of " + std::to_string(priorSize));
  d.numPriors = ps[2] / priorSize;
  if (d.numPriors == 0) throw OpError(name, "detection_output: no priors");
  d.numClasses = a.has("numClasses") ? a.integer("numClasses") : cs[1] / d.numPriors;
  if (d.numClasses <= 0 || cs[1] != d.numPriors * d.numClasses)
    throw OpError(name, "detection_output: conf holds " + std::to_string(cs[1]) + " scores per image, expected priors (" +
                            std::to_string(d.numPriors) + ") × classes (" + std::to_string(d.numClasses) + ")");
  d.locClasses = d.shareLocation ? 1 : d.numClasses;
  if (ls[1] != d.numPriors * d.locClasses * 4)
    throw OpError(name, "detection_output: loc holds " + std::to_string(ls[1]) + " values per image, expected " +
                            std::to_string(d.numPriors * d.locClasses * 4));
  if (os.size() != 4 || os[0] != 1 || os[1] != 1 || os[3] != 7)
    throw OpError(name, "detection_output: output must be [1, 1, R, 7]");
  if (ls[0] != cs[0]) throw OpError(name, "detection_output: loc and conf differ in batch");
  return d;
}

}  // namespace dynbatch
