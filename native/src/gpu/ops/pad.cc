// GPU pad: constant, edge, reflect and symmetric modes.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gpu/gpu_op.h"
#include "gpu/op_codes.h"

namespace dynbatch {
namespace gpu {
namespace {

class PadOp : public GpuOp {
 public:
  PadOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("pad")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "pad takes one input and one output");
    begin_ = spec.attrs.ints("padsBegin");
    const std::vector<int64_t> end = spec.attrs.ints("padsEnd");
    value_ = static_cast<float>(spec.attrs.num("value", 0.0));
    static const std::map<std::string, PadCode> modes = {
        {"constant", PAD_CONSTANT}, {"edge", PAD_EDGE}, {"reflect", PAD_REFLECT}, {"symmetric", PAD_SYMMETRIC}};
    const std::string mode = spec.attrs.str("mode", "constant");
    auto it = modes.find(mode);
    if (it == modes.end()) throw OpError(name_, "pad: unknown mode '" + mode + "'");
    mode_ = it->second;
    const TensorDesc& x = *spec.inputs[0];
    const Shape& y = spec.outputs[0]->maxShape;
    if (begin_.size() != x.maxShape.size() || end.size() != x.maxShape.size() || y.size() != x.maxShape.size())
      throw OpError(name_, "pad: padsBegin and padsEnd need one entry per input axis");
    if (x.batched && !x.maxShape.empty() && (begin_[0] != 0 || end[0] != 0))
      throw OpError(name_, "pad: the batch axis cannot be padded");
    for (size_t d = 0; d < y.size(); ++d) {
      const int64_t dim = x.maxShape[d];
      if (y[d] != dim + begin_[d] + end[d])
        throw OpError(name_, "pad: output size on axis " + std::to_string(d) + " is not input + pads");
      // Mirrors must land inside the input: reflect needs pads < dim, symmetric pads <= dim.
      const int64_t most = std::max(begin_[d], end[d]);
      if (mode_ != PAD_CONSTANT && y[d] > 0 &&
          (dim == 0 || (mode_ == PAD_REFLECT && most > dim - 1) || (mode_ == PAD_SYMMETRIC && most > dim)))
        throw OpError(name_, "pad: pads on axis " + std::to_string(d) + " are too large for this mode and an axis of size " +
                                 std::to_string(dim));
    }
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_),
                    static_cast<cl_int>(out[0].shape.size()), dims8(out[0].shape, name_), dims8(in[0].shape, name_),
                    dims8(begin_, name_), static_cast<cl_int>(mode_), value_);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  std::vector<int64_t> begin_;
  PadCode mode_ = PAD_CONSTANT;
  cl_float value_ = 0.f;
};

std::unique_ptr<GpuOp> makePad(const OpSpec& s, Builder& b) { return std::make_unique<PadOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("pad", makePad, {"padsBegin", "padsEnd", "mode", "value"});

}  // namespace gpu
}  // namespace dynbatch
