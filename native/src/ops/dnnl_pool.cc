// pool: oneDNN pooling_v2 (max / avg with or without padding in the divisor, dilations) over
// NC[D]HW activations in the layout its producer wrote (blocked layouts run the jit kernels,
// plain NCHW a reference one), with fused post-ops; one primitive per batch n.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

class PoolOp : public Op {
 public:
  explicit PoolOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.outputs.size() != 1) throw OpError(name_, "pool needs 1 output");
    const Shape& x = spec.inputs.at(0)->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    post_ = PostOps(spec, y.size() > 1 ? y[1] : 1, y.size());
    if (spec.inputs.size() != 1 + post_.operands()) throw OpError(name_, "pool needs 1 input before its post-op operands");
    if (x.size() < 3 || x.size() > 5) throw OpError(name_, "pool input must have rank 3..5");
    const size_t sp = x.size() - 2;
    const std::string kind = spec.attrs.str("kind");
    if (kind == "max") alg_ = dnnl::algorithm::pooling_max;
    else if (kind == "avg")
      alg_ = spec.attrs.integer("excludePad", 1) ? dnnl::algorithm::pooling_avg_exclude_padding
                                                 : dnnl::algorithm::pooling_avg_include_padding;
    else throw OpError(name_, "unknown pool kind '" + kind + "'");
    kernel_ = spatialAttr(spec, "kernel", sp, 1);
    if (!spec.attrs.has("kernel")) throw OpError(name_, "missing attribute 'kernel'");
    strides_ = spatialAttr(spec, "strides", sp, 1);
    dilations_ = spatialAttr(spec, "dilations", sp, 1);
    for (auto& d : dilations_) d -= 1;  // oneDNN counts the gaps, IR counts the step
    padL_ = spatialAttr(spec, "padsBegin", sp, 0);
    padR_ = spatialAttr(spec, "padsEnd", sp, 0);
    xMax_ = x;
    yMax_ = spec.outputs[0]->maxShape;
    impl_ = build(xMax_, yMax_).impl;  // fails early on bad attributes
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    if (in[0] != Layout::Plain) {
      try {
        layout_ = in[0];
        impl_ = build(xMax_, yMax_).impl;
      } catch (const std::exception&) {
        layout_ = Layout::Plain;
      }
    }
    for (auto& l : in) l = Layout::Plain;
    in[0] = out[0] = layout_;
  }

  std::string impl() const override { return impl_; }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape, out[0].shape); });
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.src, in[0].data}, {DNNL_ARG_DST, e.dst, out[0].data}},
                 [&](MemoryArgs& args) { post_.addArgs(args, e.dst); });
  }

 private:
  struct Entry {
    dnnl::pooling_v2_forward prim;
    dnnl::memory::desc src, dst;
    std::string impl;
  };

  Entry build(const Shape& xs, const Shape& ys) const {
    Entry e;
    e.src = layoutDesc(xs, layout_);
    e.dst = layoutDesc(ys, layout_);
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg_, e.src, e.dst, strides_, kernel_, dilations_, padL_,
                                     padR_);
    dnnl::pooling_v2_forward::primitive_desc pd(d, post_.attr(e.dst), cpuEngine());
    e.prim = dnnl::pooling_v2_forward(pd);
    e.impl = pd.impl_info_str();
    return e;
  }

  std::string name_;
  dnnl::algorithm alg_;
  dnnl::memory::dims kernel_, strides_, dilations_, padL_, padR_;
  Shape xMax_, yMax_;
  Layout layout_ = Layout::Plain;
  PostOps post_;
  std::string impl_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makePool(const OpSpec& spec) { return std::make_unique<PoolOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("pool", makePool);

}  // namespace dynbatch
