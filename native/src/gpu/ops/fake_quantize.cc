// GPU fake_quantize: the CPU op's formula (ops/ref_fake_quantize.cc), one work item per element.
#include <string>

#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

class FakeQuantizeOp : public GpuOp {
 public:
  FakeQuantizeOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("fake_quantize")) {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1)
      throw OpError(name_, "fake_quantize takes x and the packed limits, and one output");
    const Shape& lim = spec.inputs[1]->maxShape;
    if (!spec.inputs[1]->constant || lim.size() != 2 || lim[0] != 4)
      throw OpError(name_, "fake_quantize limits must be a constant [4, period]");
    period_ = lim[1];
    const int64_t levels = spec.attrs.integer("levels");
    inner_ = spec.attrs.integer("inner");
    if (levels < 2) throw OpError(name_, "fake_quantize levels must be >= 2, got " + std::to_string(levels));
    if (inner_ < 1 || period_ < 1) throw OpError(name_, "fake_quantize inner and period must be positive");
    steps_ = static_cast<cl_float>(levels - 1);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    if (out[0].size() != in[0].size()) throw OpError(name_, "fake_quantize: input and output sizes differ");
    kernel_->launch(r.queue, out[0].size(), in[0].mem, in[1].mem, out[0].mem, toInt(out[0].size(), name_), toInt(period_, name_),
                    toInt(inner_, name_), steps_);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  int64_t period_ = 1, inner_ = 1;
  cl_float steps_ = 1.f;
};

std::unique_ptr<GpuOp> makeFakeQuantize(const OpSpec& s, Builder& b) { return std::make_unique<FakeQuantizeOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("fake_quantize", makeFakeQuantize, {"levels", "inner"});

}  // namespace gpu
}  // namespace dynbatch
