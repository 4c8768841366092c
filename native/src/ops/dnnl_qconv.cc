// qconv: FakeQuantize(x) → convolution with int8 weights, run as one oneDNN int8 primitive.
// The fusion pass (kernel/plugins/cpu/int8.ts) emits it where the activation grid is per tensor
// with at most 256 levels and a whole zero point, and every output channel's weights lie on a
// symmetric int8 grid. The op quantizes x itself (own loop, the FakeQuantize formula, so every
// level equals the FP32 op's), then u8 src × s8 weights → s32, scaled per output channel
// (srcStep · wScale[o]) to f32 with bias and post-ops fused. The src zero point goes to oneDNN,
// which pads with it, so padding stays a real zero as in the FP32 convolution.
// Chains: with `srcU8` the input already holds u8 levels (a qconv wrote them); with `dstGrid` the
// op writes the next layer's u8 levels itself (oneDNN rounds (y − low) / step after the post-ops),
// so consecutive int8 layers pass bytes, not floats. Chained tensors are nhwc on both sides and
// live in buffers sized for floats.
#include <algorithm>
#include <optional>

#include "dnnl_common.h"
#include "staged_conv.h"

namespace dynbatch {
namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

class QConvOp : public Op {
 public:
  explicit QConvOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() < 2 || spec.outputs.size() != 1) throw OpError(name_, "qconv needs inputs x, w[, b] and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    const Shape& w = spec.inputs[1]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (x.size() != 4 || w.size() != 4) throw OpError(name_, "qconv takes 2-D convolutions (rank-4 input and weights)");
    if (!spec.inputs[1]->constant) throw OpError(name_, "qconv weights must be constant");
    post_ = PostOps(spec, y[1], y.size());
    const size_t regular = spec.inputs.size() - post_.operands();
    if (regular < 2 || regular > 3) throw OpError(name_, "qconv needs inputs x, w[, b] before its post-op operands");
    group_ = spec.attrs.integer("group", 1);
    if (group_ < 1 || w[0] % group_ != 0 || x[1] != w[1] * group_)
      throw OpError(name_, "qconv channels do not match weights and group " + std::to_string(group_));
    strides_ = spatialAttr(spec, "strides", 2, 1);
    dilations_ = spatialAttr(spec, "dilations", 2, 1);
    for (auto& d : dilations_) d -= 1;
    padL_ = spatialAttr(spec, "padsBegin", 2, 0);
    padR_ = spatialAttr(spec, "padsEnd", 2, 0);
    grid_ = readInt8Grid(spec, "srcGrid");
    if (grid_.zero != 0) {
      zeroMemory_ = dnnl::memory(dnnl::memory::desc({1}, dt::s32, dnnl::memory::format_tag::a), cpuEngine());
      *static_cast<int32_t*>(zeroMemory_.get_data_handle()) = grid_.zero;
    }
    srcU8_ = spec.attrs.integer("srcU8", 0) == 1;
    if (spec.attrs.has("dstGrid")) {
      if (post_.sumInput() >= 0) throw OpError(name_, "qconv dstGrid needs no sum post-op");
      dstGrid_ = readInt8Grid(spec, "dstGrid");
      dstU8_ = true;
    }
    quantizeWeights(spec, w);
    if (regular == 3 && (!spec.inputs[2]->constant || numel(spec.inputs[2]->maxShape) != w[0]))
      throw OpError(name_, "qconv bias must be a constant with " + std::to_string(w[0]) + " values");
    // Without padding every window sees only real values, so the zero point's share of the sum,
    // zero · Σw, is a constant per output channel that goes into the bias; oneDNN 2.6's 1x1
    // kernels take no zero points. With padding oneDNN must pad with the zero point itself.
    const bool padded = std::any_of(padL_.begin(), padL_.end(), [](int64_t p) { return p != 0; }) ||
                        std::any_of(padR_.begin(), padR_.end(), [](int64_t p) { return p != 0; });
    zeroInBias_ = grid_.zero != 0 && !padded;
    if (regular == 3 || zeroInBias_) {
      const int64_t per = numel(w) / w[0];
      bias_.assign(w[0], 0.f);
      for (int64_t o = 0; o < w[0]; ++o) {
        // oneDNN 2.x adds an int8 convolution's bias to the accumulator before the output scale.
        double b = regular == 3 ? spec.inputs[2]->data[o] / scales_[o] : 0.0;
        if (zeroInBias_) {
          int64_t sum = 0;
          for (int64_t k = o * per; k < (o + 1) * per; ++k) sum += weights_[k];
          b -= static_cast<double>(grid_.zero) * static_cast<double>(sum);
        }
        bias_[o] = static_cast<float>(b);
      }
    }
    flopsPerSample_ = 2.0 * static_cast<double>(numel(y) / y[0]) * static_cast<double>(numel(w) / w[0]);
    const auto any = dnnl::memory::format_tag::any;
    auto pd = primitiveDesc(srcU8_ ? layoutDesc(x, Layout::Nhwc, dt::u8) : dnnl::memory::desc(toDims(x), dt::u8, any),
                            dstU8_ ? layoutDesc(y, Layout::Nhwc, dt::u8) : dnnl::memory::desc(toDims(y), dt::f32, any),
                            attrFor(std::nullopt));
    direct_ = matchLayout(pd.src_desc(), src_, dt::u8) && matchLayout(pd.dst_desc(), dst_, dstU8_ ? dt::u8 : dt::f32);
    if (!direct_ && (srcU8_ || dstU8_))
      throw OpError(name_, "int8 convolution unavailable: no nhwc kernel for a chained u8 tensor");
    if (!direct_) src_ = dst_ = Layout::Plain;
    impl_ = cache_.get(spec.maxBatch, [&] { return build(x, y); }).impl;
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    for (auto& l : in) l = Layout::Plain;
    in[0] = src_;
    if (post_.sumInput() >= 0) in[post_.sumInput()] = dst_;
    out[0] = dst_;
  }

  int inplaceInput() const override { return post_.sumInput(); }
  std::string impl() const override { return impl_; }
  std::string precision() const override { return "U8"; }
  double flops(int64_t n) const override { return flopsPerSample_ * static_cast<double>(n); }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (out[0].size() == 0) return;
    const StagedConv& e = cache_.get(ctx.batch, [&] { return build(in[0].shape, out[0].shape); });
    void* q = srcU8_ ? in[0].data : threadBuffer(3, e.src.get_size());
    if (!srcU8_) quantize(in[0], static_cast<uint8_t*>(q));
    const int sum = post_.sumInput();
    e.run(ctx, q, sum >= 0 ? &in[sum] : nullptr, dst_, out[0], [&](MemoryArgs& args) {
      args[DNNL_ARG_WEIGHTS] = e.weights;
      if (!bias_.empty()) args[DNNL_ARG_BIAS] = e.bias;
      if (grid_.zero != 0 && !zeroInBias_) args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = zeroMemory_;
      post_.addArgs(args, e.innerDst);
    });
  }

 private:
  // Integer weights w / wScale[o], which the fusion pass checked lie on the grid.
  void quantizeWeights(const OpSpec& spec, const Shape& w) {
    const auto ws = spec.attrs.floats("wScales");
    if (static_cast<int64_t>(ws.size()) != w[0]) throw OpError(name_, "qconv needs one wScales value per output channel");
    weights_ = int8Weights(name_, spec.inputs[1]->data, ws, numel(w) / w[0]);
    scales_.resize(ws.size());
    for (size_t o = 0; o < ws.size(); ++o) scales_[o] = grid_.step * ws[o];
    Shape wd = w;
    if (group_ > 1) {
      wd[0] = w[0] / group_;
      wd.insert(wd.begin(), group_);
    }
    wPlain_ =
        dnnl::memory::desc(toDims(wd), dt::s8, group_ > 1 ? dnnl::memory::format_tag::goihw : dnnl::memory::format_tag::oihw);
  }

  // Output scales and the src zero point, with the post-ops once `dst` is known (the layouts are
  // chosen without them, as the FP32 conv does).
  dnnl::primitive_attr attrFor(const std::optional<dnnl::memory::desc>& dst) const {
    dnnl::primitive_attr a = dst ? post_.attr(*dst) : scratchpadAttr();
    if (dstU8_) appendRequantize(a, dstGrid_);
    a.set_output_scales(2, scales_);
    if (grid_.zero != 0 && !zeroInBias_) a.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    return a;
  }

  dnnl::convolution_forward::primitive_desc primitiveDesc(const dnnl::memory::desc& src, const dnnl::memory::desc& dst,
                                                          const dnnl::primitive_attr& attr) const {
    dnnl::memory::desc anyW(wPlain_.dims(), dt::s8, dnnl::memory::format_tag::any);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    std::unique_ptr<dnnl::convolution_forward::desc> d;
    if (!bias_.empty()) {
      dnnl::memory::desc bd({static_cast<int64_t>(bias_.size())}, dt::f32, dnnl::memory::format_tag::a);
      d.reset(new dnnl::convolution_forward::desc(prop, alg, src, anyW, bd, dst, strides_, dilations_, padL_, padR_));
    } else {
      d.reset(new dnnl::convolution_forward::desc(prop, alg, src, anyW, dst, strides_, dilations_, padL_, padR_));
    }
    try {
      return dnnl::convolution_forward::primitive_desc(*d, attr, cpuEngine());
    } catch (const dnnl::error& e) {
      throw OpError(name_, std::string("int8 convolution unavailable: ") + e.what());
    }
  }

  StagedConv build(const Shape& xs, const Shape& ys) {
    StagedConv e;
    e.src = layoutDesc(xs, src_, dt::u8);
    e.dst = layoutDesc(ys, dst_, dstU8_ ? dt::u8 : dt::f32);
    const auto any = dnnl::memory::format_tag::any;
    const dnnl::memory::desc anyDst(e.dst.dims(), dt::f32, any);
    auto pd = direct_ ? primitiveDesc(e.src, e.dst, attrFor(e.dst))
                      : primitiveDesc(dnnl::memory::desc(e.src.dims(), dt::u8, any), anyDst, attrFor(anyDst));
    e.weights = weightCopies_.get(wPlain_, weights_.data(), pd.weights_desc());
    if (!bias_.empty()) e.bias = dnnl::memory(pd.bias_desc(), cpuEngine(), bias_.data());
    const std::string impl = pd.impl_info_str();
    // The reference int8 kernel is far slower than the FP32 jit one: the FP32 path is kept.
    if (impl.rfind("ref", 0) == 0)
      throw OpError(name_, "int8 convolution unavailable: only oneDNN's reference kernel (" + impl + ")");
    checkInt8Saturation(name_, "convolution", impl, grid_.levels, weights_);
    e.adopt(pd, post_.sumInput() >= 0);
    return e;
  }

  // FakeQuantize's level index of every element, in x's layout (elementwise, so any layout;
  // blocked padding channels hold zeros, which the zero-padded weights ignore).
  void quantize(const Tensor& x, uint8_t* q) const {
    quantizeToLevels(x.data, static_cast<int64_t>(layoutBytes(x.shape, src_) / sizeof(float)), grid_, q);
  }

  std::string name_;
  int64_t group_ = 1;
  dims strides_, dilations_, padL_, padR_;
  Int8Grid grid_;
  bool zeroInBias_ = false;
  dnnl::memory zeroMemory_;
  std::vector<int8_t> weights_;
  std::vector<float> scales_, bias_;
  dnnl::memory::desc wPlain_;
  PostOps post_;
  bool direct_ = false;
  bool srcU8_ = false, dstU8_ = false;
  Int8Grid dstGrid_;  // the next layer's, where dstU8_
  Layout src_ = Layout::Plain, dst_ = Layout::Plain;
  std::string impl_;
  double flopsPerSample_ = 0;
  WeightsCache weightCopies_;
  LazyCache<int64_t, StagedConv> cache_;
};

std::unique_ptr<Op> makeQConv(const OpSpec& spec) { return std::make_unique<QConvOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("qconv", makeQConv);

}  // namespace dynbatch
