// GPU interpolate: a host-computed tap table (interpolate_spec.h, shared with the CPU op) read by
// one kernel.
#include <string>
#include <vector>

#include "gpu/gpu_op.h"
#include "interpolate_spec.h"

namespace dynbatch {
namespace gpu {
namespace {

// Resize taps per axis, computed once on the host (the batch axis is never resized, so the
// table at the maximum batch serves every n).
class InterpolateOp : public GpuOp {
 public:
  InterpolateOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("interpolate")) {
    const InterpolateSpec s = parseInterpolate(spec);
    const size_t rank = s.scales.size();
    if (rank > static_cast<size_t>(kMaxRank)) throw OpError(name_, "interpolate: rank exceeds the GPU limit of 8");
    const Shape& xs = spec.inputs[0]->maxShape;
    const Shape& ys = spec.outputs[0]->maxShape;
    std::vector<cl_int> idx;
    std::vector<cl_float> w;
    for (size_t d = 0; d < rank; ++d) {
      base_.push_back(static_cast<int64_t>(idx.size() / 2));
      for (const InterpolateTap& t : interpolateAxisTaps(s, d, xs[d], ys[d])) {
        idx.push_back(toInt(t.i0, name_));
        idx.push_back(toInt(t.i1, name_));
        w.push_back(t.w0);
        w.push_back(t.w1);
      }
    }
    if (idx.empty()) {  // rank 0: a buffer must not be empty
      idx = {0, 0};
      w = {1.f, 0.f};
    }
    taps_ = b.upload(idx);
    weights_ = b.upload(w);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    if (out[0].size() == 0) return;
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_),
                    static_cast<cl_int>(out[0].shape.size()), dims8(out[0].shape, name_), dims8(stridesOf(in[0].shape), name_),
                    dims8(base_, name_), taps_, weights_);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  std::vector<int64_t> base_;
  Buffer taps_, weights_;
};

std::unique_ptr<GpuOp> makeInterpolate(const OpSpec& s, Builder& b) { return std::make_unique<InterpolateOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("interpolate", makeInterpolate, {"mode", "coord", "nearest", "scales"});

}  // namespace gpu
}  // namespace dynbatch
