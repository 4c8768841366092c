#include "interpolate_spec.h"

#include <cmath>
#include <string>

namespace dynbatch {
namespace {

// Output coordinate → input coordinate.
float toInput(InterpolateCoord coord, float x, float scale, int64_t inDim, int64_t outDim) {
  switch (coord) {
    case InterpolateCoord::HalfPixel: return (x + 0.5f) / scale - 0.5f;
    case InterpolateCoord::PytorchHalfPixel: return outDim > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
    case InterpolateCoord::Asymmetric: return x / scale;
    case InterpolateCoord::TfHalfPixelForNn: return (x + 0.5f) / scale;
    case InterpolateCoord::AlignCorners:
      return outDim == 1 ? 0.f : x * static_cast<float>(inDim - 1) / static_cast<float>(outDim - 1);
  }
  return x;
}

int64_t roundNearest(InterpolateNearest nearest, float x, float scale) {
  switch (nearest) {
    case InterpolateNearest::RoundPreferFloor:
      return x == std::floor(x) + 0.5f ? static_cast<int64_t>(std::floor(x)) : std::lround(x);
    case InterpolateNearest::RoundPreferCeil: return std::lround(x);
    case InterpolateNearest::Floor: return static_cast<int64_t>(std::floor(x));
    case InterpolateNearest::Ceil: return static_cast<int64_t>(std::ceil(x));
    case InterpolateNearest::Simple: return scale < 1.f ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(x);
  }
  return 0;
}

}  // namespace

InterpolateSpec parseInterpolate(const OpSpec& spec) {
  const std::string& name = spec.name;
  if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name, "interpolate takes one input and one output");
  const Attrs& a = spec.attrs;
  InterpolateSpec s;
  const std::string mode = a.str("mode");
  if (mode == "nearest") s.linear = false;
  else if (mode == "linear") s.linear = true;
  else throw OpError(name, "interpolate: unsupported mode '" + mode + "' (nearest, linear)");
  const std::string coord = a.str("coord", "half_pixel");
  if (coord == "half_pixel") s.coord = InterpolateCoord::HalfPixel;
  else if (coord == "pytorch_half_pixel") s.coord = InterpolateCoord::PytorchHalfPixel;
  else if (coord == "asymmetric") s.coord = InterpolateCoord::Asymmetric;
  else if (coord == "tf_half_pixel_for_nn") s.coord = InterpolateCoord::TfHalfPixelForNn;
  else if (coord == "align_corners") s.coord = InterpolateCoord::AlignCorners;
  else throw OpError(name, "interpolate: unknown coordinate transformation '" + coord + "'");
  const std::string nearest = a.str("nearest", "round_prefer_floor");
  if (nearest == "round_prefer_floor") s.nearest = InterpolateNearest::RoundPreferFloor;
  else if (nearest == "round_prefer_ceil") s.nearest = InterpolateNearest::RoundPreferCeil;
  else if (nearest == "floor") s.nearest = InterpolateNearest::Floor;
  else if (nearest == "ceil") s.nearest = InterpolateNearest::Ceil;
  else if (nearest == "simple") s.nearest = InterpolateNearest::Simple;
  else throw OpError(name, "interpolate: unknown nearest mode '" + nearest + "'");
  s.scales = a.floats("scales");
  const TensorDesc& x = *spec.inputs[0];
  const Shape& ys = spec.outputs[0]->maxShape;
  if (s.scales.size() != x.maxShape.size()) throw OpError(name, "interpolate: scales needs one entry per input axis");
  if (ys.size() != x.maxShape.size()) throw OpError(name, "interpolate: output rank differs from input rank");
  for (size_t d = 0; d < s.scales.size(); ++d) {
    if (!(s.scales[d] > 0.f)) throw OpError(name, "interpolate: scale on axis " + std::to_string(d) + " is not positive");
    if (x.maxShape[d] <= 0 && ys[d] > 0) throw OpError(name, "interpolate: cannot resize an empty axis");
  }
  if (x.batched && !ys.empty() && (s.scales[0] != 1.f || ys[0] != x.maxShape[0]))
    throw OpError(name, "interpolate: the batch axis cannot be resized");
  return s;
}

std::vector<InterpolateTap> interpolateAxisTaps(const InterpolateSpec& s, size_t axis, int64_t inDim, int64_t outDim) {
  std::vector<InterpolateTap> taps(outDim);
  const float scale = s.scales[axis];
  const bool resized = inDim != outDim || scale != 1.f;
  for (int64_t o = 0; o < outDim; ++o) {
    if (!resized) {
      taps[o] = {o, o, 1.f, 0.f};
      continue;
    }
    float c = toInput(s.coord, static_cast<float>(o), scale, inDim, outDim);
    if (!s.linear) {
      int64_t i = roundNearest(s.nearest, c, scale);
      i = i < 0 ? 0 : (i >= inDim ? inDim - 1 : i);
      taps[o] = {i, i, 1.f, 0.f};
      continue;
    }
    c = c < 0.f ? 0.f : (c > static_cast<float>(inDim - 1) ? static_cast<float>(inDim - 1) : c);
    const int64_t i0 = static_cast<int64_t>(std::floor(c));
    const int64_t i1 = i0 + 1 < inDim ? i0 + 1 : inDim - 1;
    const float f = c - static_cast<float>(i0);
    taps[o] = i1 == i0 ? InterpolateTap{i0, i0, 1.f, 0.f} : InterpolateTap{i0, i1, 1.f - f, f};
  }
  return taps;
}

}  // namespace dynbatch
