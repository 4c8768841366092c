// deconv: oneDNN forward-inference deconvolution over plain NC[D]HW activations. IR weights
// [C, O/g, k...] (grouped: [g, C/g, O/g, k...]) are described to oneDNN by strides, then
// reordered once per chosen layout. padding_r is derived from the output shape, so output
// padding needs no separate attribute. One primitive per batch n.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

using dims = dnnl::memory::dims;

class DeconvOp : public Op {
 public:
  explicit DeconvOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() < 2 || spec.inputs.size() > 3 || spec.outputs.size() != 1)
      throw OpError(name_, "deconv needs inputs x, w[, b] and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    const Shape& w = spec.inputs[1]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (x.size() < 3 || x.size() > 5 || y.size() != x.size()) throw OpError(name_, "deconv input must have rank 3..5");
    if (!spec.inputs[1]->constant) throw OpError(name_, "deconv weights must be constant");
    const size_t sp = x.size() - 2;
    const int64_t g = spec.attrs.integer("group", 1);
    const int64_t C = x[1];
    const int64_t O = y[1];
    if (g < 1 || C % g != 0 || O % g != 0) throw OpError(name_, "deconv channels are not divisible by group");
    Shape k(w.end() - static_cast<long>(sp), w.end());
    if (numel(w) != C * (O / g) * numel(k)) throw OpError(name_, "deconv weights do not match the channels and group");
    strides_ = spatialAttr(spec, "strides", sp, 1);
    dil_ = spatialAttr(spec, "dilations", sp, 1);
    padL_ = spatialAttr(spec, "padsBegin", sp, 0);
    kernel_ = dims(k.begin(), k.end());
    // Logical oneDNN dims [g, O/g, C/g, k...] (or [O, C, k...]) over memory [g, C/g, O/g, k...].
    const int64_t K = numel(k);
    dims wd, ws;
    if (g > 1) {
      wd = {g, O / g, C / g};
      ws = {(C / g) * (O / g) * K, K, (O / g) * K};
    } else {
      wd = {O, C};
      ws = {K, O * K};
    }
    int64_t acc = 1;
    dims ks(sp);
    for (size_t i = sp; i-- > 0;) {
      ks[i] = acc;
      acc *= k[i];
    }
    wd.insert(wd.end(), k.begin(), k.end());
    ws.insert(ws.end(), ks.begin(), ks.end());
    wPlain_ = dnnl::memory::desc(wd, dnnl::memory::data_type::f32, ws);
    weights_ = spec.inputs[1]->data.data();
    if (spec.inputs.size() == 3) {
      if (!spec.inputs[2]->constant || numel(spec.inputs[2]->maxShape) != O)
        throw OpError(name_, "deconv bias must be a constant with " + std::to_string(O) + " values");
      bias_ = spec.inputs[2]->data.data();
      biasCount_ = O;
    }
    // Each input value meets every weight of its group once: 2·(C/g)·(O/g)·k per input pixel.
    flopsPerSample_ = 2.0 * static_cast<double>(numel(x) / std::max<int64_t>(x[0], 1)) * static_cast<double>(numel(w) / C);
    cache_.get(spec.maxBatch, [&] { return build(x, y); });
  }

  double flops(int64_t n) const override { return flopsPerSample_ * static_cast<double>(n); }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape, out[0].shape); });
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.src, in[0].data}, {DNNL_ARG_DST, e.dst, out[0].data}}, [&](MemoryArgs& args) {
      args[DNNL_ARG_WEIGHTS] = e.weights;
      if (bias_) args[DNNL_ARG_BIAS] = e.bias;
    });
  }

 private:
  struct Entry {
    dnnl::deconvolution_forward prim;
    dnnl::memory::desc src, dst;
    dnnl::memory weights, bias;
  };

  Entry build(const Shape& xs, const Shape& ys) {
    const size_t sp = xs.size() - 2;
    dims padR(sp), dil(sp);
    for (size_t i = 0; i < sp; ++i) {
      dil[i] = dil_[i] - 1;  // oneDNN counts the gaps, IR counts the step
      padR[i] = (xs[i + 2] - 1) * strides_[i] + (kernel_[i] - 1) * dil_[i] + 1 - padL_[i] - ys[i + 2];
    }
    Entry e;
    e.src = plainDesc(xs);
    e.dst = plainDesc(ys);
    auto anyW = dnnl::memory::desc(wPlain_.dims(), dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::deconvolution_direct;
    std::unique_ptr<dnnl::deconvolution_forward::desc> d;
    if (bias_) {
      dnnl::memory::desc bd({biasCount_}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
      d.reset(new dnnl::deconvolution_forward::desc(prop, alg, e.src, anyW, bd, e.dst, strides_, dil, padL_, padR));
      e.bias = dnnl::memory(bd, cpuEngine(), const_cast<float*>(bias_));
    } else {
      d.reset(new dnnl::deconvolution_forward::desc(prop, alg, e.src, anyW, e.dst, strides_, dil, padL_, padR));
    }
    dnnl::deconvolution_forward::primitive_desc pd(*d, scratchpadAttr(), cpuEngine());
    e.weights = weightsCache_.get(wPlain_, weights_, pd.weights_desc());
    e.prim = dnnl::deconvolution_forward(pd);
    return e;
  }

  std::string name_;
  dims strides_, dil_, padL_, kernel_;
  const float* weights_ = nullptr;
  const float* bias_ = nullptr;
  int64_t biasCount_ = 0;
  dnnl::memory::desc wPlain_;
  WeightsCache weightsCache_;
  double flopsPerSample_ = 0;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeDeconv(const OpSpec& spec) { return std::make_unique<DeconvOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("deconv", makeDeconv);

}  // namespace dynbatch
