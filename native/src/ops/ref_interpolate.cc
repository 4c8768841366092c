// interpolate: OpenVINO Interpolate-4 / ONNX Resize semantics for "nearest" and n-linear
// ("linear_onnx") modes. Only resized axes (size or scale changed) are transformed; the others,
// the batch axis among them, map each index to itself. The attributes and the coordinate maths
// are in interpolate_spec.h, shared with the GPU op.
#include <string>
#include <vector>

#include "interpolate_spec.h"
#include "parallel.h"

namespace dynbatch {
namespace {

class InterpolateOp : public Op {
 public:
  explicit InterpolateOp(const OpSpec& spec) : name_(spec.name), spec_(parseInterpolate(spec)) {}

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
    std::vector<std::vector<InterpolateTap>> taps(rank);
    for (size_t d = 0; d < rank; ++d) taps[d] = interpolateAxisTaps(spec_, d, xs[d], ys[d]);
    const std::vector<int64_t> xstride = rowMajorStrides(xs);
    const int64_t inner = ys[rank - 1];
    const int64_t rows = out[0].size() / inner;
    const std::vector<InterpolateTap>& innerTaps = taps[rank - 1];
    const float* src = in[0].data;
    float* dst = out[0].data;
#pragma omp parallel for if (out[0].size() > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      // Corners of the outer axes: offsets and weights, doubling at every axis with two taps.
      std::vector<int64_t> offs{0};
      std::vector<float> ws{1.f};
      int64_t rem = r;
      for (size_t d = rank - 1; d-- > 0;) {
        const InterpolateTap& t = taps[d][rem % ys[d]];
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
        const InterpolateTap& t = innerTaps[k];
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
  std::string name_;
  InterpolateSpec spec_;
};

std::unique_ptr<Op> makeInterpolate(const OpSpec& spec) { return std::make_unique<InterpolateOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("interpolate", makeInterpolate);

}  // namespace dynbatch
