// GPU copy: one buffer copy (reshape and the other layout-only ops lower to it).
#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

class CopyOp : public GpuOp {
 public:
  CopyOp(const OpSpec& spec, Builder&) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "copy takes one input and one output");
    if (numel(spec.inputs[0]->maxShape) != numel(spec.outputs[0]->maxShape))
      throw OpError(name_, "copy needs the same element count");
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    if (in[0].size() != out[0].size()) throw OpError(name_, "copy: input and output sizes differ at run time");
    if (out[0].size() == 0) return;
    check(clEnqueueCopyBuffer(r.queue, in[0].mem, out[0].mem, 0, 0, static_cast<size_t>(out[0].size()) * sizeof(float), 0,
                              nullptr, nullptr),
          "clEnqueueCopyBuffer");
  }

 private:
  std::string name_;
};

std::unique_ptr<GpuOp> makeCopy(const OpSpec& s, Builder& b) { return std::make_unique<CopyOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("copy", makeCopy, {});

}  // namespace gpu
}  // namespace dynbatch
