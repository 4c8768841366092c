// DetectionOutput's attributes and the checks on its input and output shapes, shared by the CPU
// op (ops/ref_detection_output.cc) and the GPU op (gpu/ops/detection_output.cc) so both accept
// and refuse the same networks with the same messages.
#pragma once
#include <cstdint>

#include "op.h"

namespace dynbatch {

// Box encoding; the values are the GPU kernels' `code` too.
enum class BoxCode : int { Corner = 0, CenterSize = 1, CornerSize = 2 };

struct DetectionOutputSpec {
  int64_t numPriors = 0, numClasses = 0;
  int64_t locClasses = 1;  // 1 with shareLocation, else numClasses
  int64_t background = 0, topK = -1, keepTopK = -1;
  float nmsThreshold = 0.f, confThreshold = 0.f;
  bool shareLocation = true, varianceInTarget = false, normalized = true;
  bool clipBefore = false, clipAfter = false, decreaseLabel = false;
  float inputHeight = 1.f, inputWidth = 1.f;
  BoxCode code = BoxCode::Corner;
};

// Reads the attributes and checks loc [N, P·L·4], conf [N, P·C], priors [1|N, 1|2, P·S] and the
// output [1, 1, R, 7] at the maximum batch; throws OpError naming the layer otherwise.
DetectionOutputSpec parseDetectionOutput(const OpSpec& spec);

}  // namespace dynbatch
