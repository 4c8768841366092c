// GPU transpose, slice, concat and split: one strided-copy kernel, each op an index map.
#include <string>
#include <vector>

#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

// transpose, slice, concat and split: index maps expressed as strides over the output (or piece).
class StridedOp : public GpuOp {
 public:
  enum class Kind { Transpose, Slice, Concat, Split };

  StridedOp(const OpSpec& spec, Builder& b, Kind kind) : name_(spec.name), kind_(kind), kernel_(b.kernel("strided_copy")) {
    const size_t nin = spec.inputs.size(), nout = spec.outputs.size();
    const size_t rank = spec.inputs.at(0)->maxShape.size();
    if (rank > static_cast<size_t>(kMaxRank))
      throw OpError(name_, "rank " + std::to_string(rank) + " exceeds the GPU limit of 8");
    switch (kind) {
      case Kind::Transpose:
        if (nin != 1 || nout != 1) throw OpError(name_, "transpose takes one input and one output");
        perm_ = spec.attrs.ints("perm");
        if (perm_.size() != rank) throw OpError(name_, "transpose: perm needs one entry per axis");
        for (int64_t p : perm_)
          if (p < 0 || p >= static_cast<int64_t>(rank)) throw OpError(name_, "transpose: perm entry out of range");
        break;
      case Kind::Slice:
        if (nin != 1 || nout != 1) throw OpError(name_, "slice takes one input and one output");
        begin_ = spec.attrs.ints("begin");
        step_ = spec.attrs.ints("step");
        if (begin_.size() != rank || step_.size() != rank) throw OpError(name_, "slice: begin and step need one entry per axis");
        for (size_t d = 0; d < rank; ++d) {
          const int64_t count = spec.outputs[0]->maxShape[d], dim = spec.inputs[0]->maxShape[d];
          if (step_[d] == 0) throw OpError(name_, "slice: step must not be 0");
          if (count > 0 && (begin_[d] < 0 || begin_[d] >= dim || begin_[d] + (count - 1) * step_[d] < 0 ||
                            begin_[d] + (count - 1) * step_[d] >= dim))
            throw OpError(name_, "slice: axis " + std::to_string(d) + " reads outside the input");
        }
        break;
      case Kind::Concat:
      case Kind::Split:
        if ((kind == Kind::Concat ? nout : nin) != 1) throw OpError(name_, "concat/split: one whole tensor");
        axis_ = spec.attrs.integer("axis");
        if (axis_ < 0 || axis_ >= static_cast<int64_t>(rank)) throw OpError(name_, "axis out of range");
        break;
    }
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    switch (kind_) {
      case Kind::Transpose: {
        const std::vector<int64_t> xs = stridesOf(in[0].shape);
        std::vector<int64_t> ps(perm_.size());
        for (size_t d = 0; d < perm_.size(); ++d) ps[d] = xs[perm_[d]];
        return copy(r, in[0].mem, 0, out[0].mem, 0, out[0].shape, ps, stridesOf(out[0].shape));
      }
      case Kind::Slice: {
        const std::vector<int64_t> xs = stridesOf(in[0].shape);
        std::vector<int64_t> st(xs.size());
        int64_t off = 0;
        for (size_t d = 0; d < xs.size(); ++d) {
          off += begin_[d] * xs[d];
          st[d] = step_[d] * xs[d];
        }
        return copy(r, in[0].mem, off, out[0].mem, 0, out[0].shape, st, stridesOf(out[0].shape));
      }
      case Kind::Concat: {
        const std::vector<int64_t> ys = stridesOf(out[0].shape);
        int64_t at = 0;
        for (const DevTensor& t : in) {
          copy(r, t.mem, 0, out[0].mem, at * ys[axis_], t.shape, stridesOf(t.shape), ys);
          at += t.shape[axis_];
        }
        if (at != out[0].shape[axis_]) throw OpError(name_, "concat: inputs do not fill the output along the axis");
        return;
      }
      case Kind::Split: {
        const std::vector<int64_t> xs = stridesOf(in[0].shape);
        int64_t at = 0;
        for (const DevTensor& t : out) {
          copy(r, in[0].mem, at * xs[axis_], t.mem, 0, t.shape, xs, stridesOf(t.shape));
          at += t.shape[axis_];
        }
        if (at != in[0].shape[axis_]) throw OpError(name_, "split: outputs do not cover the input along the axis");
        return;
      }
    }
  }

 private:
  void copy(Run& r, cl_mem x, int64_t xoff, cl_mem y, int64_t yoff, const Shape& dims, const std::vector<int64_t>& xs,
            const std::vector<int64_t>& ys) {
    const int64_t count = numel(dims);
    kernel_->launch(r.queue, static_cast<size_t>(count), x, toInt(xoff, name_), y, toInt(yoff, name_), toInt(count, name_),
                    static_cast<cl_int>(dims.size()), dims8(dims, name_), dims8(xs, name_), dims8(ys, name_));
  }

  std::string name_;
  Kind kind_;
  std::unique_ptr<Kernel> kernel_;
  std::vector<int64_t> perm_, begin_, step_;
  int64_t axis_ = 0;
};

std::unique_ptr<GpuOp> makeTranspose(const OpSpec& s, Builder& b) {
  return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Transpose);
}
std::unique_ptr<GpuOp> makeSlice(const OpSpec& s, Builder& b) {
  return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Slice);
}
std::unique_ptr<GpuOp> makeConcat(const OpSpec& s, Builder& b) {
  return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Concat);
}
std::unique_ptr<GpuOp> makeSplit(const OpSpec& s, Builder& b) {
  return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Split);
}

}  // namespace

DYNBATCH_REGISTER_GPU_OP("transpose", makeTranspose, {"perm"});
DYNBATCH_REGISTER_GPU_OP("slice", makeSlice, {"begin", "step"});
DYNBATCH_REGISTER_GPU_OP("concat", makeConcat, {"axis"});
DYNBATCH_REGISTER_GPU_OP("split", makeSplit, {"axis"});

}  // namespace gpu
}  // namespace dynbatch
