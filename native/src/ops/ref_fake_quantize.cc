// fake_quantize: OpenVINO's FakeQuantize-1 per element. Input 1 packs the limits as constant
// rows [input_low; input_high; output_low; output_high] of `period` values each; element i of x
// uses column (i / inner) % period (TypeScript resolves the numpy broadcast into that form).
#include <algorithm>
#include <cmath>
#include <string>

#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

class FakeQuantizeOp : public Op {
 public:
  explicit FakeQuantizeOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1)
      throw OpError(name_, "fake_quantize takes x and the packed limits, and one output");
    const TensorDesc& lim = *spec.inputs[1];
    if (!lim.constant || lim.maxShape.size() != 2 || lim.maxShape[0] != 4)
      throw OpError(name_, "fake_quantize limits must be a constant [4, period]");
    period_ = lim.maxShape[1];
    limits_ = lim.data;
    levels_ = spec.attrs.integer("levels");
    inner_ = spec.attrs.integer("inner");
    if (levels_ < 2) throw OpError(name_, "fake_quantize levels must be >= 2, got " + std::to_string(levels_));
    if (inner_ < 1 || period_ < 1) throw OpError(name_, "fake_quantize inner and period must be positive");
    for (int64_t j = 0; j < period_; ++j)
      if (limits_[j] > limits_[period_ + j]) throw OpError(name_, "fake_quantize input_low is above input_high");
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const int64_t count = in[0].size();
    if (out[0].size() != count) throw OpError(name_, "fake_quantize: output size does not match at run time");
    const float* x = in[0].data;
    float* y = out[0].data;
    const float* il = limits_.data();
    const float* ih = il + period_;
    const float* ol = ih + period_;
    const float* oh = ol + period_;
    const float steps = static_cast<float>(levels_ - 1);
#pragma omp parallel for if (count > kParallelMin)
    for (int64_t i = 0; i < count; ++i) {
      const int64_t j = (i / inner_) % period_;
      const float v = x[i];
      // The comparisons of the spec: at or below the low limit → output_low, above the high one
      // → output_high; nearbyint rounds half to even like OpenVINO's reference.
      if (v <= std::min(il[j], ih[j])) {
        y[i] = ol[j];
      } else if (v > std::max(il[j], ih[j])) {
        y[i] = oh[j];
      } else {
        y[i] = std::nearbyint((v - il[j]) / (ih[j] - il[j]) * steps) / steps * (oh[j] - ol[j]) + ol[j];
      }
    }
  }

  int inplaceInput() const override { return 0; }

 private:
  std::string name_;
  int64_t period_ = 1, levels_ = 2, inner_ = 1;
  std::vector<float> limits_;
};

std::unique_ptr<Op> makeFakeQuantize(const OpSpec& spec) { return std::make_unique<FakeQuantizeOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("fake_quantize", makeFakeQuantize);

}  // namespace dynbatch
