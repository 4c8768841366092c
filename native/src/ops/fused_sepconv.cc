// sepconv: a depthwise-separable chain fused by kernel/plugins/cpu/fuse_sepconv.ts: an optional
// 1x1 "expand", a depthwise 3x3 (padding 1, stride 1 or 2), an optional 1x1 "project" with an
// optional residual, computed row by row (fused_rows.h) so that the intermediate tensors never
// leave the cache. Reads and writes 8-channel blocks, the layout oneDNN's neighbouring layers use
// where this pays (Zen 4, AVX2 machines).
#include <cmath>

#include "dnnl_common.h"
#include "fused_rows.h"

namespace dynbatch {
namespace {

class SepConvOp : public Op {
 public:
  explicit SepConvOp(const OpSpec& spec) : name_(spec.name) {
    // fuse_sepconv.ts emits none where they cannot run; a hand-written spec must not crash there.
    if (!rowKernelsRun()) throw OpError(name_, "sepconv needs AVX2 and FMA, which this CPU (or ONEDNN_MAX_CPU_ISA) lacks");
    chain_.expand = spec.attrs.integer("expand", 0) != 0;
    chain_.project = spec.attrs.integer("project", 0) != 0;
    sum_ = spec.attrs.integer("sum", 0) != 0;
    const size_t want = 1 + 2 * (1 + chain_.expand + chain_.project) + sum_;
    if (spec.inputs.size() != want || spec.outputs.size() != 1)
      throw OpError(name_, "sepconv needs x, a weights and bias pair per stage" + std::string(sum_ ? ", the residual" : "") +
                               " (" + std::to_string(want) + " inputs) and 1 output");
    if (sum_ && !chain_.project) throw OpError(name_, "sepconv: a residual needs the project stage");
    const Shape& x = spec.inputs[0]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (x.size() != 4 || y.size() != 4) throw OpError(name_, "sepconv input and output must have rank 4");
    // run() steps through x and the residual by the output's samples.
    if (x[0] != y[0] || spec.inputs[0]->batched != spec.outputs[0]->batched)
      throw OpError(name_, "sepconv input and output must have the same batch");
    chain_.stride = static_cast<int>(spec.attrs.integer("stride", 1));
    if (chain_.stride != 1 && chain_.stride != 2) throw OpError(name_, "sepconv stride must be 1 or 2");
    chain_.height = x[2];
    chain_.width = x[3];
    chain_.outHeight = (x[2] - 1) / chain_.stride + 1;
    chain_.outWidth = (x[3] - 1) / chain_.stride + 1;
    if (y[2] != chain_.outHeight || y[3] != chain_.outWidth)
      throw OpError(name_, "sepconv output must be " + std::to_string(chain_.outHeight) + "x" + std::to_string(chain_.outWidth));
    size_t k = 1;
    int64_t channels = x[1];
    if (chain_.expand) {
      channels = pointwise(spec, k, "expand", channels, chain_.expandW, chain_.expandClamp);
      k += 2;
    }
    stage(spec, k, "depthwise", {channels, 1, 3, 3});
    chain_.depthW = DepthwiseWeights(spec.inputs[k]->data.data(), spec.inputs[k + 1]->data.data(), channels);
    chain_.depthClamp = clamp(spec, "depthClamp");
    k += 2;
    if (chain_.project) {
      channels = pointwise(spec, k, "project", channels, chain_.projectW, chain_.projectClamp);
      k += 2;
    }
    if (y[1] != channels) throw OpError(name_, "sepconv output must have " + std::to_string(channels) + " channels");
    if (sum_ && (spec.inputs[k]->maxShape != y || spec.inputs[k]->batched != spec.outputs[0]->batched))
      throw OpError(name_, "sepconv residual must have the output's shape and batch");
    const double hw = static_cast<double>(x[2] * x[3]), ohw = static_cast<double>(y[2] * y[3]);
    const double mid = static_cast<double>(chain_.depthW.blocks * 8);
    flopsPerSample_ = 18.0 * ohw * mid + (chain_.expand ? 2.0 * hw * static_cast<double>(x[1]) * mid : 0) +
                      (chain_.project ? 2.0 * ohw * mid * static_cast<double>(y[1]) : 0);
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    for (auto& l : in) l = Layout::Plain;
    in[0] = out[0] = Layout::NChw8c;
    if (sum_) in.back() = Layout::NChw8c;
  }

  // No inplaceInput() for the residual: it is often x itself, and a stripe reads the input rows
  // just outside its own, which the neighbouring stripes' threads write.

  std::string impl() const override { return std::string("fused_rows:") + rowKernelIsa(); }

  double flops(int64_t n) const override { return flopsPerSample_ * static_cast<double>(n); }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const int64_t n = out[0].shape[0];
    if (n == 0) return;
    chain_.run(in[0].data, sum_ ? in.back().data : nullptr, out[0].data, n, omp_get_max_threads());
  }

 private:
  // Checks the weights and bias of a stage at inputs k, k+1 (`dims`: the weights' shape, -1 any);
  // returns its output channels.
  int64_t stage(const OpSpec& spec, size_t k, const std::string& what, const Shape& dims) const {
    const TensorDesc* w = spec.inputs[k];
    const TensorDesc* b = spec.inputs[k + 1];
    bool ok = w->constant && w->maxShape.size() == dims.size();
    for (size_t d = 0; ok && d < dims.size(); ++d) ok = dims[d] < 0 || w->maxShape[d] == dims[d];
    if (!ok) throw OpError(name_, "sepconv " + what + " weights must be a constant of shape " + shapeText(dims));
    if (!b->constant || numel(b->maxShape) != w->maxShape[0])
      throw OpError(name_, "sepconv " + what + " bias must be a constant with " + std::to_string(w->maxShape[0]) + " values");
    return w->maxShape[0];
  }

  // The 1x1 stage `what` at inputs k, k+1 over `channels` input channels, with its clamp
  // attribute `what`Clamp; returns its output channels.
  int64_t pointwise(const OpSpec& spec, size_t k, const std::string& what, int64_t channels, PointwiseWeights& w,
                    Clamp& c) const {
    const int64_t out = stage(spec, k, what, {-1, channels, 1, 1});
    w = PointwiseWeights(spec.inputs[k]->data.data(), spec.inputs[k + 1]->data.data(), out, channels);
    c = clamp(spec, what + "Clamp");
    return out;
  }

  // [lo, hi] of attribute `key` (absent: none). Zero must pass unchanged: the padding lanes of
  // the 8-channel blocks stay zero.
  Clamp clamp(const OpSpec& spec, const std::string& key) const {
    const auto v = spec.attrs.floats(key, {-INFINITY, INFINITY});
    if (v.size() != 2 || !(v[0] <= 0.f && v[1] >= 0.f)) throw OpError(name_, "sepconv " + key + " must be [lo <= 0, hi >= 0]");
    return {v[0], v[1]};
  }

  static std::string shapeText(const Shape& s) {
    std::string t = "[";
    for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + (s[i] < 0 ? std::string("*") : std::to_string(s[i]));
    return t + "]";
  }

  std::string name_;
  SepChain chain_;
  bool sum_ = false;
  double flopsPerSample_ = 0;
};

std::unique_ptr<Op> makeSepConv(const OpSpec& spec) { return std::make_unique<SepConvOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("sepconv", makeSepConv);

}  // namespace dynbatch
