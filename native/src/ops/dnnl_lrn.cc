// lrn: oneDNN LRN (across channels or within a channel) over plain tensors. oneDNN divides
// alpha by the window size (size, or size² within a channel), matching IR/ONNX semantics.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

class LrnOp : public Op {
 public:
  explicit LrnOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "lrn needs 1 input and 1 output");
    const Attrs& a = spec.attrs;
    alpha_ = static_cast<float>(a.num("alpha"));
    beta_ = static_cast<float>(a.num("beta"));
    bias_ = static_cast<float>(a.num("bias", 1.0));
    size_ = a.integer("size");
    if (size_ < 1) throw OpError(name_, "lrn size must be >= 1");
    const std::string region = a.str("region", "across");
    if (region == "across") alg_ = dnnl::algorithm::lrn_across_channels;
    else if (region == "within") alg_ = dnnl::algorithm::lrn_within_channel;
    else throw OpError(name_, "unknown lrn region '" + region + "'");
    const Shape& x = spec.inputs[0]->maxShape;
    if (x.size() < 3 || x.size() > 5) throw OpError(name_, "lrn input must have rank 3..5");
    cache_.get(spec.maxBatch, [&] { return build(x); });
  }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape); });
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.md, in[0].data}, {DNNL_ARG_DST, e.md, out[0].data}});
  }

 private:
  struct Entry {
    dnnl::lrn_forward prim;
    dnnl::memory::desc md;
  };

  Entry build(const Shape& xs) const {
    Entry e;
    e.md = plainDesc(xs);
    dnnl::lrn_forward::desc d(dnnl::prop_kind::forward_inference, alg_, e.md, size_, alpha_, beta_, bias_);
    e.prim = dnnl::lrn_forward(dnnl::lrn_forward::primitive_desc(d, scratchpadAttr(), cpuEngine()));
    return e;
  }

  std::string name_;
  dnnl::algorithm alg_;
  float alpha_, beta_, bias_;
  int64_t size_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeLrn(const OpSpec& spec) { return std::make_unique<LrnOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("lrn", makeLrn);

}  // namespace dynbatch
