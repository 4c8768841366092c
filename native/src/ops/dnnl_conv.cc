// conv: oneDNN forward-inference convolution (1-3 spatial axes) with fused post-ops.
// At creation the primitive for the maximum batch picks its activation layouts (format_tag
// any: blocked nChw8c/nChw16c or nhwc; plain NCHW would force the slow im2col+gemm path);
// when both are layouts the executor knows, the op reads and writes them directly and the
// executor keeps them between layers. Otherwise it reads and writes plain tensors and reorders
// around the primitive itself. Weights are reordered once into the layout the primitive
// prefers; batch is not a runtime dimension in oneDNN 2.6, so one primitive is built per
// batch n and cached.
#include <algorithm>
#include <optional>

#include "dnnl_common.h"
#include "staged_conv.h"

namespace dynbatch {
namespace {

using dims = dnnl::memory::dims;

class ConvOp : public Op {
 public:
  explicit ConvOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() < 2 || spec.outputs.size() != 1) throw OpError(name_, "conv needs inputs x, w[, b] and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    const Shape& w = spec.inputs[1]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (x.size() < 3 || x.size() > 5) throw OpError(name_, "conv input must have rank 3..5");
    if (w.size() != x.size()) throw OpError(name_, "conv weights rank must equal input rank");
    if (!spec.inputs[1]->constant) throw OpError(name_, "conv weights must be constant");
    post_ = PostOps(spec, y.size() > 1 ? y[1] : 1, y.size());
    const size_t regular = spec.inputs.size() - post_.operands();
    if (regular < 2 || regular > 3) throw OpError(name_, "conv needs inputs x, w[, b] before its post-op operands");
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
    flopsPerSample_ = 2.0 * static_cast<double>(numel(y) / std::max<int64_t>(y[0], 1)) * static_cast<double>(numel(w) / w[0]);
    Shape wd = w;
    if (group_ > 1) {
      wd[0] = w[0] / group_;
      wd.insert(wd.begin(), group_);
    }
    wPlain_ = plainDesc(wd);
    if (regular == 3) {
      if (!spec.inputs[2]->constant || numel(spec.inputs[2]->maxShape) != w[0])
        throw OpError(name_, "conv bias must be a constant with " + std::to_string(w[0]) + " values");
      bias_ = spec.inputs[2]->data.data();
    }
    // Let oneDNN choose the layouts at the maximum batch, without post-ops: binary ones with a
    // not yet concrete destination can steer it to a slower kernel with plain layouts.
    const auto any = dnnl::memory::format_tag::any;
    const auto f32 = dnnl::memory::data_type::f32;
    auto pd = primitiveDesc(dnnl::memory::desc(toDims(x), f32, any), dnnl::memory::desc(toDims(y), f32, any), scratchpadAttr());
    direct_ = matchLayout(pd.src_desc(), src_) && matchLayout(pd.dst_desc(), dst_);
    if (!direct_) src_ = dst_ = Layout::Plain;
    if (x.size() == 4 && halfWidthFmaPeak()) preferEightChannelBlocks(x, w, y);
    preScale_ = spec.attrs.floats("preScale", {});
    preShift_ = spec.attrs.floats("preShift", {});
    if (preScale_.size() != preShift_.size() ||
        (!preScale_.empty() && (x.size() != 4 || preScale_.size() != static_cast<size_t>(x[1]))))
      throw OpError(name_, "conv preScale and preShift need one value per input channel of a 4-D input");
    packs_ = !preScale_.empty();
    impl_ = cache_.get(spec.maxBatch, [&] { return build(x, y); }).impl;
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    for (auto& l : in) l = Layout::Plain;
    if (!packs_) in[0] = src_;
    if (post_.sumInput() >= 0) in[post_.sumInput()] = dst_;
    out[0] = dst_;
  }

  // The sum operand is accumulated into the output: they may share one buffer.
  int inplaceInput() const override { return post_.sumInput(); }

  std::string impl() const override { return impl_; }

  double flops(int64_t n) const override { return flopsPerSample_ * static_cast<double>(n); }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (out[0].size() == 0) return;
    const StagedConv& e = cache_.get(ctx.batch, [&] { return build(in[0].shape, out[0].shape); });
    const int sum = post_.sumInput();
    void* x = in[0].data;
    if (packs_) {
      x = threadBuffer(3, layoutBytes(in[0].shape, src_));
      packInput(in[0].data, in[0].shape, src_, preScale_, preShift_, static_cast<float*>(x));
    }
    e.run(ctx, x, sum >= 0 ? &in[sum] : nullptr, dst_, out[0], [&](MemoryArgs& args) {
      args[DNNL_ARG_WEIGHTS] = e.weights;
      if (bias_) args[DNNL_ARG_BIAS] = e.bias;
      post_.addArgs(args, e.innerDst);
    });
  }

 private:
  dnnl::convolution_forward::primitive_desc primitiveDesc(const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                                                          const dnnl::primitive_attr& attr) const {
    const auto f32 = dnnl::memory::data_type::f32;
    dnnl::memory::desc anyW(wPlain_.dims(), f32, dnnl::memory::format_tag::any);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    std::unique_ptr<dnnl::convolution_forward::desc> d;
    if (bias_) {
      dnnl::memory::desc bd({biasCount()}, f32, dnnl::memory::format_tag::a);
      d.reset(new dnnl::convolution_forward::desc(prop, alg, src, anyW, bd, dst, strides_, dilations_, padL_, padR_));
    } else {
      d.reset(new dnnl::convolution_forward::desc(prop, alg, src, anyW, dst, strides_, dilations_, padL_, padR_));
    }
    return dnnl::convolution_forward::primitive_desc(*d, attr, cpuEngine());
  }

  // Where 256-bit FMAs reach the 512-bit peak, oneDNN's AVX2 kernels on 8-channel blocks beat
  // its AVX-512 choices (brgconv / brdgmm on nhwc) on the large 1x1 and depthwise layers of
  // depthwise-separable networks (face detection 0.83x, MobileNetV2-shaped 0.76-0.92x CPU time),
  // and a large first conv with few input channels then reads the plain input itself instead of
  // after a reorder. Other layers keep oneDNN's choice: on small maps (the secondary networks'
  // 1x1 layers at 1x1 to 4x4, their first convs at 30x30 to 60x60) and for spatial kernels
  // (SSD's 184 -> 16 3x3 heads: 297 vs 221 µs) the AVX2 kernels and the reorders they add lose
  // 3-26%. Kept only when a jit kernel takes it.
  void preferEightChannelBlocks(const Shape& x, const Shape& w, const Shape& y) {
    // The layers of depthwise-separable stacks (MobileNet, SSD): a strided 1x1 or a first conv with a
    // large kernel is ResNet's downsample or stem, whose neighbours stay on 16-channel blocks, and
    // the reorders between the two cost more than the 8-channel kernel gains (ResNet-18 1.07x).
    const bool unitStride = std::all_of(strides_.begin(), strides_.end(), [](int64_t s) { return s == 1; });
    const bool depthwise = group_ > 1 && group_ == x[1] && group_ == y[1];
    const bool pointwise = group_ == 1 && w[2] == 1 && w[3] == 1 && unitStride;
    const bool first = group_ == 1 && x[1] <= 4 && w[2] <= 3 && w[3] <= 3;
    const int64_t map = y[2] * y[3];
    if (!(((depthwise || pointwise) && map >= kMinMap) || (first && map >= kMinFirstMap))) return;
    const Layout src = x[1] <= 4 ? Layout::Plain : Layout::NChw8c;
    try {
      auto pd = primitiveDesc(layoutDesc(x, src), layoutDesc(y, Layout::NChw8c), scratchpadAttr());
      const std::string impl = pd.impl_info_str();
      if (impl.rfind("jit", 0) != 0) return;
    } catch (const dnnl::error&) {
      return;
    }
    src_ = src;
    dst_ = Layout::NChw8c;
    direct_ = true;
  }

  StagedConv build(const Shape& xs, const Shape& ys) {
    StagedConv e;
    e.src = layoutDesc(xs, src_);
    e.dst = layoutDesc(ys, dst_);
    const auto f32 = dnnl::memory::data_type::f32;
    const auto any = dnnl::memory::format_tag::any;
    const dnnl::memory::desc anyDst(e.dst.dims(), f32, any);
    auto pd = direct_ ? primitiveDesc(e.src, e.dst, post_.attr(e.dst))
                      : primitiveDesc(dnnl::memory::desc(e.src.dims(), f32, any), anyDst, post_.attr(anyDst));
    e.weights = weightsCache_.get(wPlain_, weights_, pd.weights_desc());
    if (bias_) e.bias = dnnl::memory(pd.bias_desc(), cpuEngine(), const_cast<float*>(bias_));
    e.adopt(pd, post_.sumInput() >= 0);
    return e;
  }

  int64_t biasCount() const {
    auto wd = wPlain_.dims();
    return group_ > 1 ? wd[0] * wd[1] : wd[0];
  }

  // Output maps from which 8-channel blocks pay (7x7, MobileNet's last; 100x100).
  static constexpr int64_t kMinMap = 49, kMinFirstMap = 10000;

  std::string name_;
  // Per input channel, applied before the conv (and its zero padding): a network's input
  // normalization, which the conv applies while it converts the plain input (packs_). Without one,
  // oneDNN's reorder step converts a plain input faster than packInput (eye's 3x32x32: 0.9 vs ~2 µs).
  std::vector<float> preScale_, preShift_;
  bool packs_ = false;
  int64_t group_ = 1;
  dims strides_, dilations_, padL_, padR_;
  const float* weights_ = nullptr;
  const float* bias_ = nullptr;
  dnnl::memory::desc wPlain_;
  PostOps post_;
  bool direct_ = false;  // the primitive reads src_ and writes dst_ itself
  Layout src_ = Layout::Plain, dst_ = Layout::Plain;
  std::string impl_;
  double flopsPerSample_ = 0;
  WeightsCache weightsCache_;
  LazyCache<int64_t, StagedConv> cache_;
};

std::unique_ptr<Op> makeConv(const OpSpec& spec) { return std::make_unique<ConvOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("conv", makeConv);

}  // namespace dynbatch
