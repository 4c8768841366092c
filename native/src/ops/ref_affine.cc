// affine: y = x·scale[c] + shift[c] along axis 1, with constant per-channel scale and shift (the
// CPU plugin collapses batch norms and chains of per-channel multiply/add into it). Runs in the
// layout its producer wrote: oneDNN 2.6's binary primitive and binary post-ops broadcast a
// per-channel operand several times slower than this loop over blocks of channels.
#include "dnnl_common.h"

namespace dynbatch {
namespace {

class AffineOp : public Op {
 public:
  explicit AffineOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 3 || spec.outputs.size() != 1)
      throw OpError(name_, "affine needs inputs x, scale, shift and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    if (x.size() < 2) throw OpError(name_, "affine input must have rank >= 2");
    if (spec.outputs[0]->maxShape != x) throw OpError(name_, "affine output must have the input's shape");
    shape_ = x;
    const int64_t C = x[1];
    // Zero-padded to whole blocks of 16 so that a padded blocked layout keeps zeros in its padding.
    const size_t padded = static_cast<size_t>((C + 15) / 16 * 16);
    for (int k = 0; k < 2; ++k) {
      const TensorDesc* t = spec.inputs[1 + k];
      if (!t->constant || (numel(t->maxShape) != C && numel(t->maxShape) != 1))
        throw OpError(name_, "affine scale and shift must be constants with 1 or " + std::to_string(C) + " values");
      std::vector<float>& v = k == 0 ? scale_ : shift_;
      v.assign(padded, 0.f);
      for (int64_t c = 0; c < C; ++c) v[c] = t->data[t->data.size() == 1 ? 0 : c];
    }
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    if (in[0] != Layout::Plain && shape_.size() != 4) in[0] = Layout::Plain;
    layout_ = in[0];
    in[1] = in[2] = Layout::Plain;
    out[0] = layout_;
  }

  int inplaceInput() const override { return 0; }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& s = in[0].shape;
    const int64_t N = s[0], C = s[1];
    const int64_t inner = numel(Shape(s.begin() + 2, s.end()));
    const float* x = in[0].data;
    float* y = out[0].data;
    const float* a = scale_.data();
    const float* b = shift_.data();
    const bool parallel = N * C * inner > kParallelMin;
    if (layout_ == Layout::Plain) {
      channelAffinePlain(x, y, N, C, inner, a, b);
    } else if (layout_ == Layout::Nhwc) {
#pragma omp parallel for if (parallel)
      for (int64_t p = 0; p < N * inner; ++p) {
        const float* px = x + p * C;
        float* py = y + p * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) py[c] = px[c] * a[c] + b[c];
      }
    } else {
      const int64_t block = layout_ == Layout::NChw8c ? 8 : 16;
      const int64_t blocks = (C + block - 1) / block;
#pragma omp parallel for if (parallel)
      for (int64_t nb = 0; nb < N * blocks; ++nb) {
        const float* sa = a + (nb % blocks) * block;
        const float* sb = b + (nb % blocks) * block;
        const float* px = x + nb * inner * block;
        float* py = y + nb * inner * block;
        for (int64_t i = 0; i < inner; ++i) {
#pragma omp simd
          for (int64_t k = 0; k < block; ++k) py[i * block + k] = px[i * block + k] * sa[k] + sb[k];
        }
      }
    }
  }

 private:
  std::string name_;
  Shape shape_;
  std::vector<float> scale_, shift_;
  Layout layout_ = Layout::Plain;
};

std::unique_ptr<Op> makeAffine(const OpSpec& spec) { return std::make_unique<AffineOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("affine", makeAffine);

}  // namespace dynbatch
