// slice: out[i...] = x[begin + i·step] per axis (StridedSlice, Slice, Crop after resolution in
// TypeScript). The output shape gives the element count along each axis.
#include <string>

#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

class SliceOp : public Op {
 public:
  explicit SliceOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "slice takes one input and one output");
    begin_ = spec.attrs.ints("begin");
    step_ = spec.attrs.ints("step");
    const Shape& xs = spec.inputs[0]->maxShape;
    const Shape& ys = spec.outputs[0]->maxShape;
    if (begin_.size() != xs.size() || step_.size() != xs.size())
      throw OpError(name_, "slice: begin and step need one entry per input axis (rank " + std::to_string(xs.size()) + ")");
    if (ys.size() != xs.size()) throw OpError(name_, "slice: output rank differs from input rank");
    for (size_t d = 0; d < xs.size(); ++d) {
      if (step_[d] == 0) throw OpError(name_, "slice: step is 0 on axis " + std::to_string(d));
      if (!inBounds(d, xs[d], ys[d])) throw OpError(name_, "slice: reads outside the input on axis " + std::to_string(d));
    }
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& xs = in[0].shape;
    const Shape& ys = out[0].shape;
    const size_t rank = xs.size();
    if (ys.size() != rank) throw OpError(name_, "slice: output rank differs from input rank at run time");
    for (size_t d = 0; d < rank; ++d)
      if (!inBounds(d, xs[d], ys[d])) throw OpError(name_, "slice: reads outside the input on axis " + std::to_string(d));
    if (out[0].size() == 0) return;
    if (rank == 0) {
      out[0].data[0] = in[0].data[0];
      return;
    }
    const std::vector<int64_t> xstride = rowMajorStrides(xs);
    const int64_t inner = ys[rank - 1];
    const int64_t innerStep = step_[rank - 1];
    const int64_t innerBegin = begin_[rank - 1];
    const int64_t rows = out[0].size() / inner;
    const float* src = in[0].data;
    float* dst = out[0].data;
#pragma omp parallel for if (rows * inner > kParallelCopyMin)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t rem = r, off = 0;
      for (size_t d = rank - 1; d-- > 0;) {
        off += (begin_[d] + (rem % ys[d]) * step_[d]) * xstride[d];
        rem /= ys[d];
      }
      const float* x = src + off + innerBegin;
      float* o = dst + r * inner;
      for (int64_t i = 0; i < inner; ++i) o[i] = x[i * innerStep];
    }
  }

 private:
  // Every index begin + i·step for i < count lies in [0, dim).
  bool inBounds(size_t d, int64_t dim, int64_t count) const {
    if (count < 0) return false;
    if (count == 0) return true;
    const int64_t last = begin_[d] + (count - 1) * step_[d];
    return begin_[d] >= 0 && begin_[d] < dim && last >= 0 && last < dim;
  }

  std::string name_;
  std::vector<int64_t> begin_, step_;
};

std::unique_ptr<Op> makeSlice(const OpSpec& spec) { return std::make_unique<SliceOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("slice", makeSlice);

}  // namespace dynbatch
