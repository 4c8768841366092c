// reorder: copies a tensor from one layout to another (the executor inserts these where a
// consumer reads a layout its producer did not write); oneDNN reorder, one primitive per batch n.
// With from "any" and `permuted`, it is a Transpose [0, 2, 3, 1] of a 4-D tensor (SSD heads
// before their flatten): the [N, H, W, C] output is the input stored nhwc, written straight from
// whatever layout the producer wrote (a copy when that is nhwc) instead of through plain.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

class ReorderOp : public Op {
 public:
  explicit ReorderOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "reorder needs 1 input and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    permuted_ = spec.attrs.integer("permuted", 0) != 0;
    anyFrom_ = spec.attrs.str("from") == "any";
    from_ = anyFrom_ ? Layout::Plain : parseLayout(spec.attrs.str("from"));
    to_ = parseLayout(spec.attrs.str("to"));
    if (permuted_) {
      if (x.size() != 4 || to_ != Layout::Nhwc) throw OpError(name_, "a permuted reorder writes a 4-D tensor as nhwc");
      if (spec.outputs[0]->maxShape != Shape{x[0], x[2], x[3], x[1]})
        throw OpError(name_, "permuted reorder output must be the input's [N, H, W, C]");
    } else if (x != spec.outputs[0]->maxShape) {
      throw OpError(name_, "reorder input and output shapes differ");
    }
    maxBatch_ = spec.maxBatch;
    maxShape_ = x;
    if (!anyFrom_) impl_ = cache_.get(maxBatch_, [&] { return build(x); }).impl;
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    if (anyFrom_) {
      from_ = in[0];
      impl_ = cache_.get(maxBatch_, [&] { return build(maxShape_); }).impl;
    }
    in[0] = from_;
    out[0] = permuted_ ? Layout::Plain : to_;
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
  bool anyFrom_ = false;   // reads the layout its producer writes (set in negotiate)
  bool permuted_ = false;  // the output buffer is [N, H, W, C], i.e. the input stored as to_
  int64_t maxBatch_ = 1;
  Shape maxShape_;
  std::string impl_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeReorder(const OpSpec& spec) { return std::make_unique<ReorderOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("reorder", makeReorder);

}  // namespace dynbatch
