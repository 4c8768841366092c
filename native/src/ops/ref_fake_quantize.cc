// fake_quantize: OpenVINO's FakeQuantize-1 per element. Input 1 packs the limits as constant
// rows [input_low; input_high; output_low; output_high] of `period` values each; element i of x
// uses column (i / inner) % period (TypeScript resolves the numpy broadcast into that form).
#include <algorithm>
#include <cmath>
#include <string>

#include "fq_math.h"
#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

// n values onto the grid: the level (at or below the low limit 0, above the high one the last,
// rounding half to even like OpenVINO's reference) as output_low + level / steps · (output_high −
// output_low). Also compiled for AVX-512 and AVX2 (the addon's baseline is SSE2).
__attribute__((target_clones("avx512f", "avx2", "default"))) void fakeQuantizeRange(const float* x, float* y, int64_t n, float il,
                                                                                    float ih, float ol, float oh, float steps) {
  for (int64_t i = 0; i < n; ++i) y[i] = fakeQuantizeLevel(x[i], il, ih, steps) / steps * (oh - ol) + ol;
}

class FakeQuantizeOp : public Op {
 public:
  explicit FakeQuantizeOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1)
      throw OpError(name_, "fake_quantize takes x and the packed limits, and one output");
    const TensorDesc& lim = *spec.inputs[1];
    if (!lim.constant || lim.maxShape.size() != 2 || lim.maxShape[0] != 4)
      throw OpError(name_, "fake_quantize limits must be a constant [4, period]");
    period_ = lim.maxShape[1];
    rank_ = spec.inputs[0]->maxShape.size();
    limits_ = lim.data;
    levels_ = spec.attrs.integer("levels");
    inner_ = spec.attrs.integer("inner");
    if (levels_ < 2) throw OpError(name_, "fake_quantize levels must be >= 2, got " + std::to_string(levels_));
    if (inner_ < 1 || period_ < 1) throw OpError(name_, "fake_quantize inner and period must be positive");
    for (int64_t j = 0; j < period_; ++j)
      if (limits_[j] > limits_[period_ + j]) throw OpError(name_, "fake_quantize input_low is above input_high");
  }

  // With one set of limits (per tensor, as activations usually are) every element is treated
  // alike, so any 4-D layout works and no reorder surrounds the op; per-channel limits need plain.
  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    if (period_ != 1 || rank_ != 4) in[0] = Layout::Plain;
    layout_ = in[0];
    in[1] = Layout::Plain;
    out[0] = layout_;
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const int64_t count = in[0].size();
    if (out[0].size() != count) throw OpError(name_, "fake_quantize: output size does not match at run time");
    if (count == 0) return;
    if (layout_ == Layout::NChw8c || layout_ == Layout::NChw16c) return runBlocked(in[0], out[0]);
    const float* x = in[0].data;
    float* y = out[0].data;
    const float* il = limits_.data();
    const float* ih = il + period_;
    const float* ol = ih + period_;
    const float* oh = ol + period_;
    const float steps = static_cast<float>(levels_ - 1);
    // Runs of `inner` elements share one column, and each run vectorizes; limits per tensor make
    // one run of everything, cut into chunks for the threads.
    const int64_t inner = period_ == 1 ? std::min<int64_t>(count, kChunk) : inner_;
    const int64_t runs = (count + inner - 1) / inner;
#pragma omp parallel for if (count > kParallelMin)
    for (int64_t r = 0; r < runs; ++r) {
      const int64_t j = r % period_;
      fakeQuantizeRange(x + r * inner, y + r * inner, std::min(inner, count - r * inner), il[j], ih[j], ol[j], oh[j], steps);
    }
  }

  int inplaceInput() const override { return 0; }

 private:
  // Channels in blocks of 8 or 16: the padding channels of the last block stay zero (the next
  // convolution reads them), whatever the limits would make of a zero.
  void runBlocked(const Tensor& x, const Tensor& y) const {
    const Shape& s = x.shape;
    const int64_t N = s[0], C = s[1], inner = s[2] * s[3];
    const int64_t block = layout_ == Layout::NChw8c ? 8 : 16;
    const int64_t blocks = (C + block - 1) / block;
    const float il = limits_[0], ih = limits_[1], ol = limits_[2], oh = limits_[3];
    const float steps = static_cast<float>(levels_ - 1);
#pragma omp parallel for if (N * blocks * inner * block > kParallelMin)
    for (int64_t nb = 0; nb < N * blocks; ++nb) {
      const int64_t real = std::min(block, C - (nb % blocks) * block);
      const float* px = x.data + nb * inner * block;
      float* py = y.data + nb * inner * block;
      for (int64_t i = 0; i < inner * block; ++i)
        py[i] = i % block < real ? fakeQuantizeLevel(px[i], il, ih, steps) / steps * (oh - ol) + ol : 0.f;
    }
  }

  static constexpr int64_t kChunk = 4096;

  std::string name_;
  int64_t period_ = 1, levels_ = 2, inner_ = 1;
  size_t rank_ = 0;
  Layout layout_ = Layout::Plain;
  std::vector<float> limits_;
};

std::unique_ptr<Op> makeFakeQuantize(const OpSpec& spec) { return std::make_unique<FakeQuantizeOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("fake_quantize", makeFakeQuantize);

}  // namespace dynbatch
