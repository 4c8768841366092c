// softmax: oneDNN softmax / logsoftmax along one axis of a plain tensor; one primitive per batch n.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

class SoftmaxOp : public Op {
 public:
  explicit SoftmaxOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "softmax needs 1 input and 1 output");
    axis_ = static_cast<int>(spec.attrs.integer("axis"));
    log_ = spec.attrs.integer("log", 0) != 0;
    const Shape& x = spec.inputs[0]->maxShape;
    if (axis_ < 0 || axis_ >= static_cast<int>(x.size()))
      throw OpError(name_, "softmax axis " + std::to_string(axis_) + " out of range for rank " + std::to_string(x.size()));
    cache_.get(spec.maxBatch, [&] { return build(x); });
  }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (in[0].size() == 0) return;
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape); });
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.md, in[0].data}, {DNNL_ARG_DST, e.md, out[0].data}});
  }

 private:
  struct Entry {
    dnnl::primitive prim;
    dnnl::memory::desc md;
  };

  Entry build(const Shape& xs) const {
    Entry e;
    e.md = plainDesc(xs);
    const auto prop = dnnl::prop_kind::forward_inference;
    if (log_) {
      dnnl::logsoftmax_forward::desc d(prop, e.md, axis_);
      e.prim = dnnl::logsoftmax_forward(dnnl::logsoftmax_forward::primitive_desc(d, scratchpadAttr(), cpuEngine()));
    } else {
      dnnl::softmax_forward::desc d(prop, e.md, axis_);
      e.prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(d, scratchpadAttr(), cpuEngine()));
    }
    return e;
  }

  std::string name_;
  int axis_ = 0;
  bool log_ = false;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeSoftmax(const OpSpec& spec) { return std::make_unique<SoftmaxOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("softmax", makeSoftmax);

}  // namespace dynbatch
