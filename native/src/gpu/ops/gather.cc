// GPU gather: constant indices along one axis, uploaded once.
#include <string>
#include <vector>

#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

class GatherOp : public GpuOp {
 public:
  GatherOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("gather")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "gather takes one input and one output");
    const Shape& x = spec.inputs[0]->maxShape;
    axis_ = spec.attrs.integer("axis");
    if (axis_ < 0 || axis_ >= static_cast<int64_t>(x.size())) throw OpError(name_, "gather axis out of range");
    std::vector<cl_int> idx;
    for (int64_t v : spec.attrs.ints("indices")) {
      if (v < 0 || v >= x[axis_]) throw OpError(name_, "gather index " + std::to_string(v) + " is out of range");
      idx.push_back(static_cast<cl_int>(v));
    }
    count_ = static_cast<int64_t>(idx.size());
    if (idx.empty()) idx.push_back(0);
    indices_ = b.upload(idx);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& x = in[0].shape;
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis_) + 1; d < x.size(); ++d) inner *= x[d];
    kernel_->launch(r.queue, out[0].size(), in[0].mem, indices_, out[0].mem, toInt(out[0].size(), name_), toInt(count_, name_),
                    toInt(x[axis_], name_), toInt(inner, name_));
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  int64_t axis_ = 0, count_ = 0;
  Buffer indices_;
};

std::unique_ptr<GpuOp> makeGather(const OpSpec& s, Builder& b) { return std::make_unique<GatherOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("gather", makeGather, {"axis", "indices", "indicesShape"});

}  // namespace gpu
}  // namespace dynbatch
