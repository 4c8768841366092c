// batchnorm: inference batch normalization over [N, C, ...]. The constants fold at creation
// into one scale and shift per channel, applied by an OpenMP loop: y = x·scale[c] + shift[c].
#include <cmath>

#include "dnnl_common.h"

namespace dynbatch {
namespace {

class BatchNormOp : public Op {
 public:
  explicit BatchNormOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 5 || spec.outputs.size() != 1)
      throw OpError(name_, "batchnorm needs inputs x, gamma, beta, mean, var and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    if (x.size() < 2) throw OpError(name_, "batchnorm input must have rank >= 2");
    const int64_t C = x[1];
    for (size_t i = 1; i < 5; ++i)
      if (!spec.inputs[i]->constant || numel(spec.inputs[i]->maxShape) != C)
        throw OpError(name_, "batchnorm parameters must be constants with " + std::to_string(C) + " values");
    const double eps = spec.attrs.num("epsilon");
    const auto& gamma = spec.inputs[1]->data;
    const auto& beta = spec.inputs[2]->data;
    const auto& mean = spec.inputs[3]->data;
    const auto& var = spec.inputs[4]->data;
    scale_.resize(C);
    shift_.resize(C);
    for (int64_t c = 0; c < C; ++c) {
      const double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps);
      scale_[c] = static_cast<float>(s);
      shift_[c] = static_cast<float>(beta[c] - mean[c] * s);
    }
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& s = in[0].shape;
    const int64_t N = s[0];
    const int64_t C = s[1];
    const int64_t inner = numel(Shape(s.begin() + 2, s.end()));
    const float* x = in[0].data;
    float* y = out[0].data;
#pragma omp parallel for
    for (int64_t nc = 0; nc < N * C; ++nc) {
      const float a = scale_[nc % C];
      const float b = shift_[nc % C];
      const float* px = x + nc * inner;
      float* py = y + nc * inner;
      for (int64_t i = 0; i < inner; ++i) py[i] = px[i] * a + b;
    }
  }

 private:
  std::string name_;
  std::vector<float> scale_, shift_;
};

std::unique_ptr<Op> makeBatchNorm(const OpSpec& spec) { return std::make_unique<BatchNormOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("batchnorm", makeBatchNorm);

}  // namespace dynbatch
