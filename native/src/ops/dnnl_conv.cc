// conv: oneDNN forward-inference convolution over plain NC[D]HW tensors (1-3 spatial axes).
// The primitive picks its own activation layout (plain NCHW would force the slow
// im2col+gemm path, ~10x slower on AVX-512), so input and output are reordered around it
// when that layout is blocked. Weights are reordered once into the layout the primitive
// prefers; batch is not a runtime dimension in oneDNN 2.6, so one primitive is built per
// batch n and cached.
#include <optional>

#include "dnnl_common.h"

namespace dynbatch {
namespace {

using dims = dnnl::memory::dims;

class ConvOp : public Op {
 public:
  explicit ConvOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() < 2 || spec.inputs.size() > 3 || spec.outputs.size() != 1)
      throw OpError(name_, "conv needs inputs x, w[, b] and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    const Shape& w = spec.inputs[1]->maxShape;
    if (x.size() < 3 || x.size() > 5) throw OpError(name_, "conv input must have rank 3..5");
    if (w.size() != x.size()) throw OpError(name_, "conv weights rank must equal input rank");
    if (!spec.inputs[1]->constant) throw OpError(name_, "conv weights must be constant");
    const size_t sp = x.size() - 2;
    group_ = spec.attrs.integer("group", 1);
    if (group_ < 1 || w[0] % group_ != 0 || x[1] != w[1] * group_)
      throw OpError(name_, "conv channels do not match weights and group " + std::to_string(group_));
    strides_ = spatialAttr(spec, "strides", sp, 1);
    dilations_ = spatialAttr(spec, "dilations", sp, 1);
    for (auto& d : dilations_) d -= 1;  // oneDNN counts the gaps, IR counts the step
    padL_ = spatialAttr(spec, "padsBegin", sp, 0);
    padR_ = spatialAttr(spec, "padsEnd", sp, 0);
    weights_ = spec.inputs[1]->data.data();
    Shape wd = w;
    if (group_ > 1) {
      wd[0] = w[0] / group_;
      wd.insert(wd.begin(), group_);
    }
    wPlain_ = plainDesc(wd);
    if (spec.inputs.size() == 3) {
      if (!spec.inputs[2]->constant || numel(spec.inputs[2]->maxShape) != w[0])
        throw OpError(name_, "conv bias must be a constant with " + std::to_string(w[0]) + " values");
      bias_ = spec.inputs[2]->data.data();
    }
    // Build the max-batch primitive now so bad attributes fail at compile time.
    cache_.get(spec.maxBatch, [&] { return build(x, spec.outputs[0]->maxShape); });
  }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape, out[0].shape); });
    auto& eng = cpuEngine();
    dnnl::memory src(e.src, eng, in[0].data);
    dnnl::memory dst(e.dst, eng, out[0].data);
    dnnl::memory innerSrc = src, innerDst = dst;
    if (e.srcReorder) {
      innerSrc = threadMemory(1, e.innerSrc);
      runPrimitive(ctx, *e.srcReorder, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, innerSrc}});
    }
    if (e.dstReorder) innerDst = threadMemory(2, e.innerDst);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, innerSrc}, {DNNL_ARG_WEIGHTS, e.weights}, {DNNL_ARG_DST, innerDst}};
    if (bias_) args[DNNL_ARG_BIAS] = e.bias;
    runPrimitive(ctx, e.prim, args);
    if (e.dstReorder) runPrimitive(ctx, *e.dstReorder, {{DNNL_ARG_FROM, innerDst}, {DNNL_ARG_TO, dst}});
  }

 private:
  struct Entry {
    dnnl::convolution_forward prim;
    dnnl::memory::desc src, dst;            // plain, as the program stores them
    dnnl::memory::desc innerSrc, innerDst;  // the primitive's layouts
    std::optional<dnnl::reorder> srcReorder, dstReorder;
    dnnl::memory weights, bias;
  };

  Entry build(const Shape& xs, const Shape& ys) {
    Entry e;
    e.src = plainDesc(xs);
    e.dst = plainDesc(ys);
    const auto any = dnnl::memory::format_tag::any;
    const auto f32 = dnnl::memory::data_type::f32;
    dnnl::memory::desc anyW(wPlain_.dims(), f32, any), anySrc(e.src.dims(), f32, any), anyDst(e.dst.dims(), f32, any);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    std::unique_ptr<dnnl::convolution_forward::desc> d;
    if (bias_) {
      dnnl::memory::desc bd({biasCount()}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
      d.reset(new dnnl::convolution_forward::desc(prop, alg, anySrc, anyW, bd, anyDst, strides_, dilations_, padL_, padR_));
      e.bias = dnnl::memory(bd, cpuEngine(), const_cast<float*>(bias_));
    } else {
      d.reset(new dnnl::convolution_forward::desc(prop, alg, anySrc, anyW, anyDst, strides_, dilations_, padL_, padR_));
    }
    dnnl::convolution_forward::primitive_desc pd(*d, scratchpadAttr(), cpuEngine());
    e.weights = weightsCache_.get(wPlain_, weights_, pd.weights_desc());
    e.prim = dnnl::convolution_forward(pd);
    e.innerSrc = pd.src_desc();
    e.innerDst = pd.dst_desc();
    auto reorder = [](const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
      return dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), from, cpuEngine(), to, scratchpadAttr()));
    };
    if (e.innerSrc != e.src) e.srcReorder = reorder(e.src, e.innerSrc);
    if (e.innerDst != e.dst) e.dstReorder = reorder(e.innerDst, e.dst);
    return e;
  }

  int64_t biasCount() const {
    auto wd = wPlain_.dims();
    return group_ > 1 ? wd[0] * wd[1] : wd[0];
  }

  std::string name_;
  int64_t group_ = 1;
  dims strides_, dilations_, padL_, padR_;
  const float* weights_ = nullptr;
  const float* bias_ = nullptr;
  dnnl::memory::desc wPlain_;
  WeightsCache weightsCache_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeConv(const OpSpec& spec) { return std::make_unique<ConvOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("conv", makeConv);

}  // namespace dynbatch
