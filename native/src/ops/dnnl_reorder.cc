// reorder: copies a tensor from one layout to another (the executor inserts these where a
// consumer reads a layout its producer did not write); oneDNN reorder, one primitive per batch n.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

class ReorderOp : public Op {
 public:
  explicit ReorderOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "reorder needs 1 input and 1 output");
    if (spec.inputs[0]->maxShape != spec.outputs[0]->maxShape) throw OpError(name_, "reorder input and output shapes differ");
    from_ = parseLayout(spec.attrs.str("from"));
    to_ = parseLayout(spec.attrs.str("to"));
    impl_ = cache_.get(spec.maxBatch, [&] { return build(spec.inputs[0]->maxShape); }).impl;
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    in[0] = from_;
    out[0] = to_;
  }

  std::string impl() const override { return impl_; }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (in[0].size() == 0) return;
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape); });
    runPrimitive(ctx, e.prim, {{DNNL_ARG_FROM, e.src, in[0].data}, {DNNL_ARG_TO, e.dst, out[0].data}});
  }

 private:
  struct Entry {
    dnnl::reorder prim;
    dnnl::memory::desc src, dst;
    std::string impl;
  };

  Entry build(const Shape& s) const {
    Entry e;
    e.src = layoutDesc(s, from_);
    e.dst = layoutDesc(s, to_);
    dnnl::reorder::primitive_desc pd(cpuEngine(), e.src, cpuEngine(), e.dst, scratchpadAttr());
    e.prim = dnnl::reorder(pd);
    e.impl = pd.impl_info_str();
    return e;
  }

  std::string name_;
  Layout from_ = Layout::Plain, to_ = Layout::Plain;
  std::string impl_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeReorder(const OpSpec& spec) { return std::make_unique<ReorderOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("reorder", makeReorder);

}  // namespace dynbatch
