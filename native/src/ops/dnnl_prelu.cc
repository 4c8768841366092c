// prelu: y = x > 0 ? x : slope·x via oneDNN prelu. A 1-D slope of C values applies along
// axis 1 (per channel); other slopes broadcast numpy-style (right-aligned). x may arrive in a
// blocked layout when oneDNN has a kernel for it. A constant slope is copied once into the
// layout the primitive prefers, a single value repeated per channel (oneDNN 2.6 runs a scalar
// slope only in its reference kernel).
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

class PreluOp : public Op {
 public:
  explicit PreluOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1) throw OpError(name_, "prelu needs inputs x, slope and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    const Shape& s = spec.inputs[1]->maxShape;
    if (x.empty()) throw OpError(name_, "prelu input must have rank >= 1");
    if (numel(s) == 1) {
      slope_ = Shape(x.size(), 1);
    } else if (s.size() == 1 && x.size() >= 2 && s[0] == x[1]) {
      slope_ = Shape(x.size(), 1);
      slope_[1] = s[0];
    } else {
      if (s.size() > x.size()) throw OpError(name_, "prelu slope rank exceeds input rank");
      slope_ = Shape(x.size() - s.size(), 1);
      slope_.insert(slope_.end(), s.begin(), s.end());
      for (size_t i = 1; i < x.size(); ++i)
        if (slope_[i] != 1 && slope_[i] != x[i]) throw OpError(name_, "prelu slope does not broadcast to the input");
      if (slope_[0] != 1) throw OpError(name_, "prelu slope must not vary along the batch axis");
    }
    if (spec.inputs[1]->constant) {
      slopeData_ = spec.inputs[1]->data;
      if (numel(s) == 1 && x.size() >= 2) {
        slope_[1] = x[1];
        slopeData_.assign(x[1], slopeData_[0]);
      }
    }
    xMax_ = x;
    impl_ = build(x).impl;  // fails early on bad shapes
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    if (in[0] != Layout::Plain) {
      try {
        layout_ = in[0];
        impl_ = build(xMax_).impl;
      } catch (const std::exception&) {
        layout_ = Layout::Plain;
      }
    }
    in[0] = out[0] = layout_;
    in[1] = Layout::Plain;
  }

  int inplaceInput() const override { return 0; }

  std::string impl() const override { return impl_; }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (in[0].size() == 0) return;
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape); });
    if (slopeData_.empty())
      runPrimitive(ctx, e.prim,
                   {{DNNL_ARG_SRC, e.x, in[0].data}, {DNNL_ARG_WEIGHTS, e.w, in[1].data}, {DNNL_ARG_DST, e.x, out[0].data}});
    else
      runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.x, in[0].data}, {DNNL_ARG_DST, e.x, out[0].data}},
                   [&](MemoryArgs& args) { args[DNNL_ARG_WEIGHTS] = e.weights; });
  }

 private:
  struct Entry {
    dnnl::prelu_forward prim;
    dnnl::memory::desc x, w;
    dnnl::memory weights;  // the constant slope in the primitive's layout
    std::string impl;
  };

  Entry build(const Shape& xs) const {
    Entry e;
    e.x = layoutDesc(xs, layout_);
    e.w = plainDesc(slope_);
    const bool constant = !slopeData_.empty();
    dnnl::memory::desc w = constant ? dnnl::memory::desc(e.w.dims(), e.w.data_type(), dnnl::memory::format_tag::any) : e.w;
    dnnl::prelu_forward::desc d(dnnl::prop_kind::forward_inference, e.x, w);
    dnnl::prelu_forward::primitive_desc pd(d, scratchpadAttr(), cpuEngine());
    if (constant) e.weights = weightsCache_.get(e.w, slopeData_.data(), pd.weights_desc());
    e.prim = dnnl::prelu_forward(pd);
    e.impl = pd.impl_info_str();
    return e;
  }

  std::string name_;
  Shape slope_;
  std::vector<float> slopeData_;  // constant slopes, repeated per channel when one value
  mutable WeightsCache weightsCache_;
  Shape xMax_;
  Layout layout_ = Layout::Plain;
  std::string impl_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makePrelu(const OpSpec& spec) { return std::make_unique<PreluOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("prelu", makePrelu);

}  // namespace dynbatch
