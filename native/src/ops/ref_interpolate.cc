// interpolate: OpenVINO Interpolate-4 / ONNX Resize semantics for "nearest" and n-linear
// ("linear_onnx") modes. Only resized axes (size or scale changed) are transformed; the others,
// the batch axis among them, map each index to itself.
#include <cmath>
#include <string>

#include "op.h"

namespace dynbatch {
namespace {

enum class Coord { HalfPixel, PytorchHalfPixel, Asymmetric, TfHalfPixelForNn, AlignCorners };
enum class Nearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Simple };

// Input taps of one output index along one axis: i0 weighted w0, i1 weighted w1.
struct Tap {
  int64_t i0, i1;
  float w0, w1;
};

class InterpolateOp : public Op {
 public:
  explicit InterpolateOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "interpolate takes one input and one output");
    const std::string mode = spec.attrs.str("mode");
    if (mode == "nearest") linear_ = false;
    else if (mode == "linear") linear_ = true;
    else throw OpError(name_, "interpolate: unsupported mode '" + mode + "' (nearest, linear)");
    const std::string coord = spec.attrs.str("coord", "half_pixel");
    if (coord == "half_pixel") coord_ = Coord::HalfPixel;
    else if (coord == "pytorch_half_pixel") coord_ = Coord::PytorchHalfPixel;
    else if (coord == "asymmetric") coord_ = Coord::Asymmetric;
    else if (coord == "tf_half_pixel_for_nn") coord_ = Coord::TfHalfPixelForNn;
    else if (coord == "align_corners") coord_ = Coord::AlignCorners;
    else throw OpError(name_, "interpolate: unknown coordinate transformation '" + coord + "'");
    const std::string nearest = spec.attrs.str("nearest", "round_prefer_floor");
    if (nearest == "round_prefer_floor") nearest_ = Nearest::RoundPreferFloor;
    else if (nearest == "round_prefer_ceil") nearest_ = Nearest::RoundPreferCeil;
    else if (nearest == "floor") nearest_ = Nearest::Floor;
    else if (nearest == "ceil") nearest_ = Nearest::Ceil;
    else if (nearest == "simple") nearest_ = Nearest::Simple;
    else throw OpError(name_, "interpolate: unknown nearest mode '" + nearest + "'");
    scales_ = spec.attrs.floats("scales");
    const TensorDesc& x = *spec.inputs[0];
    const Shape& ys = spec.outputs[0]->maxShape;
    if (scales_.size() != x.maxShape.size()) throw OpError(name_, "interpolate: scales needs one entry per input axis");
    if (ys.size() != x.maxShape.size()) throw OpError(name_, "interpolate: output rank differs from input rank");
    for (size_t d = 0; d < scales_.size(); ++d) {
      if (!(scales_[d] > 0.f)) throw OpError(name_, "interpolate: scale on axis " + std::to_string(d) + " is not positive");
      if (x.maxShape[d] <= 0 && ys[d] > 0) throw OpError(name_, "interpolate: cannot resize an empty axis");
    }
    if (x.batched && !ys.empty() && (scales_[0] != 1.f || ys[0] != x.maxShape[0]))
      throw OpError(name_, "interpolate: the batch axis cannot be resized");
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& xs = in[0].shape;
    const Shape& ys = out[0].shape;
    const size_t rank = xs.size();
    if (ys.size() != rank) throw OpError(name_, "interpolate: output rank differs from input rank at run time");
    if (out[0].size() == 0) return;
    if (rank == 0) {
      out[0].data[0] = in[0].data[0];
      return;
    }
    for (size_t d = 0; d < rank; ++d)
      if (xs[d] <= 0) throw OpError(name_, "interpolate: cannot resize an empty axis");
    std::vector<std::vector<Tap>> taps(rank);
    for (size_t d = 0; d < rank; ++d) taps[d] = axisTaps(d, xs[d], ys[d]);
    const std::vector<int64_t> xstride = rowMajorStrides(xs);
    const int64_t inner = ys[rank - 1];
    const int64_t rows = out[0].size() / inner;
    const std::vector<Tap>& innerTaps = taps[rank - 1];
    const float* src = in[0].data;
    float* dst = out[0].data;
#pragma omp parallel for if (out[0].size() > 16384)
    for (int64_t r = 0; r < rows; ++r) {
      // Corners of the outer axes: offsets and weights, doubling at every axis with two taps.
      std::vector<int64_t> offs{0};
      std::vector<float> ws{1.f};
      int64_t rem = r;
      for (size_t d = rank - 1; d-- > 0;) {
        const Tap& t = taps[d][rem % ys[d]];
        rem /= ys[d];
        const size_t m = offs.size();
        if (t.w1 != 0.f) {
          for (size_t c = 0; c < m; ++c) {
            offs.push_back(offs[c] + t.i1 * xstride[d]);
            ws.push_back(ws[c] * t.w1);
          }
        }
        for (size_t c = 0; c < m; ++c) {
          offs[c] += t.i0 * xstride[d];
          ws[c] *= t.w0;
        }
      }
      float* o = dst + r * inner;
      for (int64_t k = 0; k < inner; ++k) {
        const Tap& t = innerTaps[k];
        float acc = 0.f;
        for (size_t c = 0; c < offs.size(); ++c) {
          const float* x = src + offs[c];
          acc += ws[c] * (t.w1 != 0.f ? t.w0 * x[t.i0] + t.w1 * x[t.i1] : t.w0 * x[t.i0]);
        }
        o[k] = acc;
      }
    }
  }

 private:
  // Output coordinate → input coordinate (OpenVINO's coordinate_transformation_mode).
  float toInput(float x, float scale, int64_t inDim, int64_t outDim) const {
    switch (coord_) {
      case Coord::HalfPixel: return (x + 0.5f) / scale - 0.5f;
      case Coord::PytorchHalfPixel: return outDim > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
      case Coord::Asymmetric: return x / scale;
      case Coord::TfHalfPixelForNn: return (x + 0.5f) / scale;
      case Coord::AlignCorners:
        return outDim == 1 ? 0.f : x * static_cast<float>(inDim - 1) / static_cast<float>(outDim - 1);
    }
    return x;
  }

  int64_t round(float x, float scale) const {
    switch (nearest_) {
      case Nearest::RoundPreferFloor: return x == std::floor(x) + 0.5f ? static_cast<int64_t>(std::floor(x)) : std::lround(x);
      case Nearest::RoundPreferCeil: return std::lround(x);
      case Nearest::Floor: return static_cast<int64_t>(std::floor(x));
      case Nearest::Ceil: return static_cast<int64_t>(std::ceil(x));
      case Nearest::Simple: return scale < 1.f ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(x);
    }
    return 0;
  }

  std::vector<Tap> axisTaps(size_t d, int64_t inDim, int64_t outDim) const {
    std::vector<Tap> taps(outDim);
    const float scale = scales_[d];
    const bool resized = inDim != outDim || scale != 1.f;
    for (int64_t o = 0; o < outDim; ++o) {
      if (!resized) {
        taps[o] = {o, o, 1.f, 0.f};
        continue;
      }
      float c = toInput(static_cast<float>(o), scale, inDim, outDim);
      if (!linear_) {
        int64_t i = round(c, scale);
        i = i < 0 ? 0 : (i >= inDim ? inDim - 1 : i);
        taps[o] = {i, i, 1.f, 0.f};
        continue;
      }
      c = c < 0.f ? 0.f : (c > static_cast<float>(inDim - 1) ? static_cast<float>(inDim - 1) : c);
      const int64_t i0 = static_cast<int64_t>(std::floor(c));
      const int64_t i1 = i0 + 1 < inDim ? i0 + 1 : inDim - 1;
      const float f = c - static_cast<float>(i0);
      taps[o] = i1 == i0 ? Tap{i0, i0, 1.f, 0.f} : Tap{i0, i1, 1.f - f, f};
    }
    return taps;
  }

  std::string name_;
  bool linear_ = false;
  Coord coord_ = Coord::HalfPixel;
  Nearest nearest_ = Nearest::RoundPreferFloor;
  std::vector<float> scales_;
};

std::unique_ptr<Op> makeInterpolate(const OpSpec& spec) { return std::make_unique<InterpolateOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("interpolate", makeInterpolate);

}  // namespace dynbatch
