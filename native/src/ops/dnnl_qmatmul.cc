// qmatmul: FakeQuantize(x) → MatMul with constant weights (a fully connected layer), run as one
// oneDNN int8 matmul. The fusion pass (kernel/plugins/cpu/int8.ts) emits it where the activation
// grid is per tensor with at most 256 levels and a whole zero point, and every output column's
// weights lie on a symmetric int8 grid. x is read as rows of K values (a Reshape/Flatten between
// the FakeQuantize and the MatMul moves no data), quantized by the FakeQuantize formula, then
// u8 × s8 → s32, scaled per column (srcStep · wScale[n]) to f32 with the post-ops fused.
// A matmul has no padding, so the zero point's share of each sum, zero · Σ_k w[k, n], is a
// constant per column: it goes into the bias and oneDNN needs no zero points.
// Chains: with `srcU8` x already holds u8 levels (a qmatmul wrote them); with `dstGrid` the op
// writes the next layer's u8 levels (rounded by oneDNN after the post-ops).
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

using dt = dnnl::memory::data_type;

class QMatMulOp : public Op {
 public:
  explicit QMatMulOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() < 2 || spec.outputs.size() != 1) throw OpError(name_, "qmatmul needs inputs x, w and 1 output");
    const Shape& w = spec.inputs[1]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (!spec.inputs[1]->constant || w.size() < 2 || numel(w) != w[w.size() - 1] * w[w.size() - 2])
      throw OpError(name_, "qmatmul weights must be a constant matrix (leading dimensions of 1)");
    const bool tb = spec.attrs.integer("transposeB", 0) != 0;
    k_ = tb ? w[w.size() - 1] : w[w.size() - 2];
    n_ = tb ? w[w.size() - 2] : w[w.size() - 1];
    if (y.empty() || y.back() != n_ || numel(spec.inputs[0]->maxShape) % k_ != 0)
      throw OpError(name_, "qmatmul input is not rows of " + std::to_string(k_) + " values, or the output not rows of " +
                               std::to_string(n_));
    post_ = PostOps(spec, n_, 2);
    if (spec.inputs.size() != 2 + post_.operands()) throw OpError(name_, "qmatmul needs 2 inputs before its post-op operands");
    if (!post_.empty() && y.size() != 2) throw OpError(name_, "qmatmul post-ops need a 2-D output");
    if (post_.sumInput() >= 0) throw OpError(name_, "qmatmul takes no sum post-op");
    grid_ = readInt8Grid(spec, "srcGrid");
    srcU8_ = spec.attrs.integer("srcU8", 0) == 1;
    if (spec.attrs.has("dstGrid")) {
      dstGrid_ = readInt8Grid(spec, "dstGrid");
      dstU8_ = true;
    }
    const auto ws = spec.attrs.floats("wScales");
    if (static_cast<int64_t>(ws.size()) != n_) throw OpError(name_, "qmatmul needs one wScales value per output column");
    weights_ = int8Weights(name_, spec.inputs[1]->data, ws, tb ? k_ : 1);
    scales_.resize(ws.size());
    for (size_t c = 0; c < ws.size(); ++c) scales_[c] = grid_.step * ws[c];
    wPlain_ = dnnl::memory::desc({k_, n_}, dt::s8, tb ? dnnl::memory::dims{1, k_} : dnnl::memory::dims{n_, 1});
    if (grid_.zero != 0) {
      // oneDNN 2.x adds an int8 matmul's bias to the accumulator, before the output scales.
      bias_.assign(n_, 0.f);
      for (int64_t i = 0; i < k_ * n_; ++i) {
        const int64_t c = tb ? i / k_ : i % n_;
        bias_[c] -= static_cast<float>(grid_.zero) * static_cast<float>(weights_[i]);
      }
    }
    flopsAtMax_ = 2.0 * static_cast<double>(numel(y)) * static_cast<double>(k_);
    maxBatch_ = spec.maxBatch;
    batched_ = spec.outputs[0]->batched;
    impl_ = cache_.get(spec.maxBatch, [&] { return build(numel(spec.inputs[0]->maxShape) / k_); }).impl;
  }

  std::string impl() const override { return impl_; }
  std::string precision() const override { return "U8"; }
  double flops(int64_t n) const override {
    return batched_ ? flopsAtMax_ * static_cast<double>(n) / static_cast<double>(maxBatch_) : flopsAtMax_;
  }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (out[0].size() == 0) return;
    const int64_t m = numel(in[0].shape) / k_;
    Entry& e = cache_.get(ctx.batch, [&] { return build(m); });
    void* q = srcU8_ ? in[0].data : threadBuffer(3, e.src.get_size());
    if (!srcU8_) quantizeToLevels(in[0].data, m * k_, grid_, static_cast<uint8_t*>(q));
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.src, q}, {DNNL_ARG_DST, e.dst, out[0].data}}, [&](MemoryArgs& args) {
      args[DNNL_ARG_WEIGHTS] = e.weights;
      if (!bias_.empty()) args[DNNL_ARG_BIAS] = e.bias;
      post_.addArgs(args, e.postDst);
    });
  }

 private:
  struct Entry {
    dnnl::matmul prim;
    dnnl::memory::desc src, dst;
    // The post-ops' view of dst: f32 even where dst holds u8 levels, so that an operand shaped
    // like dst (a bias row at m = 1) is read as floats.
    dnnl::memory::desc postDst;
    dnnl::memory weights, bias;
    std::string impl;
  };

  Entry build(int64_t m) {
    Entry e;
    e.src = dnnl::memory::desc({m, k_}, dt::u8, dnnl::memory::format_tag::ab);
    e.dst = dnnl::memory::desc({m, n_}, dstU8_ ? dt::u8 : dt::f32, dnnl::memory::format_tag::ab);
    e.postDst = dnnl::memory::desc({m, n_}, dt::f32, dnnl::memory::format_tag::ab);
    dnnl::primitive_attr a = post_.attr(e.postDst);
    if (dstU8_) appendRequantize(a, dstGrid_);
    a.set_output_scales(1 << 1, scales_);
    const dnnl::memory::desc anyW({k_, n_}, dt::s8, dnnl::memory::format_tag::any);
    const dnnl::memory::desc bd({1, n_}, dt::f32, dnnl::memory::format_tag::ab);
    std::unique_ptr<dnnl::matmul::primitive_desc> pd;
    try {
      pd.reset(new dnnl::matmul::primitive_desc(
          bias_.empty() ? dnnl::matmul::desc(e.src, anyW, e.dst) : dnnl::matmul::desc(e.src, anyW, bd, e.dst), a, cpuEngine()));
    } catch (const dnnl::error& err) {
      throw OpError(name_, std::string("int8 matmul unavailable: ") + err.what());
    }
    e.impl = pd->impl_info_str();
    // The reference int8 kernel is far slower than the FP32 one: the FP32 path is kept.
    if (e.impl.rfind("ref", 0) == 0)
      throw OpError(name_, "int8 matmul unavailable: only oneDNN's reference kernel (" + e.impl + ")");
    checkInt8Saturation(name_, "matmul", e.impl, grid_.levels, weights_);
    e.weights = weightCopies_.get(wPlain_, weights_.data(), pd->weights_desc());
    if (!bias_.empty()) e.bias = dnnl::memory(pd->bias_desc(), cpuEngine(), bias_.data());
    e.prim = dnnl::matmul(*pd);
    return e;
  }

  std::string name_;
  int64_t k_ = 1, n_ = 1;
  Int8Grid grid_;
  std::vector<int8_t> weights_;
  std::vector<float> scales_, bias_;
  dnnl::memory::desc wPlain_;
  PostOps post_;
  bool srcU8_ = false, dstU8_ = false;
  Int8Grid dstGrid_;  // the next layer's, where dstU8_
  std::string impl_;
  double flopsAtMax_ = 0;
  int64_t maxBatch_ = 1;
  bool batched_ = false;
  WeightsCache weightCopies_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeQMatMul(const OpSpec& spec) { return std::make_unique<QMatMulOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("qmatmul", makeQMatMul);

}  // namespace dynbatch
