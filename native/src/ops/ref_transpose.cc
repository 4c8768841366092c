// transpose: out[i0..ik] = x[i_perm^-1...], i.e. out.shape[d] = x.shape[perm[d]].
#include <string>

#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

class TransposeOp : public Op {
 public:
  explicit TransposeOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "transpose takes one input and one output");
    perm_ = spec.attrs.ints("perm");
    const Shape& x = spec.inputs[0]->maxShape;
    if (perm_.size() != x.size())
      throw OpError(name_, "transpose: perm has " + std::to_string(perm_.size()) + " entries for a rank-" +
                               std::to_string(x.size()) + " input");
    std::vector<bool> seen(perm_.size(), false);
    for (auto p : perm_) {
      if (p < 0 || p >= static_cast<int64_t>(perm_.size()) || seen[p])
        throw OpError(name_, "transpose: perm is not a permutation of the input axes");
      seen[p] = true;
    }
    Shape expect(x.size());
    for (size_t d = 0; d < x.size(); ++d) expect[d] = x[perm_[d]];
    if (expect != spec.outputs[0]->maxShape) throw OpError(name_, "transpose: output shape does not match perm");
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& xs = in[0].shape;
    const Shape& ys = out[0].shape;
    const size_t rank = xs.size();
    for (size_t d = 0; d < rank; ++d)
      if (ys.size() != rank || ys[d] != xs[perm_[d]])
        throw OpError(name_, "transpose: output shape does not match perm at run time");
    if (rank == 0) {
      out[0].data[0] = in[0].data[0];
      return;
    }
    // Input stride of each output axis.
    const std::vector<int64_t> xstride = rowMajorStrides(xs);
    std::vector<int64_t> istride(rank);
    for (size_t d = 0; d < rank; ++d) istride[d] = xstride[perm_[d]];
    const int64_t inner = ys[rank - 1];
    const int64_t innerStride = istride[rank - 1];
    const int64_t rows = inner == 0 ? 0 : out[0].size() / inner;
    const float* src = in[0].data;
    float* dst = out[0].data;
#pragma omp parallel for if (rows * inner > kParallelCopyMin)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t rem = r, off = 0;
      for (size_t d = rank - 1; d-- > 0;) {
        off += (rem % ys[d]) * istride[d];
        rem /= ys[d];
      }
      float* o = dst + r * inner;
      const float* x = src + off;
      if (innerStride == 1) {
        for (int64_t i = 0; i < inner; ++i) o[i] = x[i];
      } else {
        for (int64_t i = 0; i < inner; ++i) o[i] = x[i * innerStride];
      }
    }
  }

 private:
  std::string name_;
  std::vector<int64_t> perm_;
};

std::unique_ptr<Op> makeTranspose(const OpSpec& spec) { return std::make_unique<TransposeOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("transpose", makeTranspose);

}  // namespace dynbatch
