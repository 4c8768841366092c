// Interpolate's attributes, the checks on its shapes and its coordinate maths, shared by the CPU
// op (ops/ref_interpolate.cc) and the GPU op (gpu/ops/interpolate.cc) so both accept the same
// networks with the same messages and pick the same input taps.
#pragma once
#include <cstdint>
#include <vector>

#include "op.h"

namespace dynbatch {

// OpenVINO's coordinate_transformation_mode.
enum class InterpolateCoord { HalfPixel, PytorchHalfPixel, Asymmetric, TfHalfPixelForNn, AlignCorners };
// OpenVINO's nearest_mode.
enum class InterpolateNearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Simple };

struct InterpolateSpec {
  bool linear = false;  // n-linear ("linear_onnx"); else nearest
  InterpolateCoord coord = InterpolateCoord::HalfPixel;
  InterpolateNearest nearest = InterpolateNearest::RoundPreferFloor;
  std::vector<float> scales;  // one per input axis
};

// Input taps of one output index along one axis: i0 weighted w0, i1 weighted w1.
struct InterpolateTap {
  int64_t i0, i1;
  float w0, w1;
};

// Reads mode, coord, nearest and scales and checks them against the input and output at the
// maximum batch (the batch axis is never resized); throws OpError naming the layer otherwise.
InterpolateSpec parseInterpolate(const OpSpec& spec);

// The taps of every output index of axis `axis` for an input of inDim and an output of outDim.
// Axes whose size and scale are unchanged map each index to itself. inDim must be > 0 when
// outDim is.
std::vector<InterpolateTap> interpolateAxisTaps(const InterpolateSpec& s, size_t axis, int64_t inDim, int64_t outDim);

}  // namespace dynbatch
