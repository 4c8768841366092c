// matmul: numpy matmul (rank >= 2, leading dims broadcast) via oneDNN matmul. Operands are
// padded to the output rank with leading 1s (oneDNN broadcasts batch dims of size 1);
// transposes are expressed as strides so no data moves. A constant B (a Gemm's weights) is
// reordered once into the layout the primitive prefers: brgemm reads a transposed B [N, K] 2.8x
// slower at M = 1 (1280x1000: 84 vs 30 us). One primitive per batch n.
#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

using dims = dnnl::memory::dims;

// Logical [..., rows, cols] view of a row-major operand, stored transposed when `t`.
dnnl::memory::desc operandDesc(const Shape& s, size_t rank, bool t) {
  Shape p(rank - s.size(), 1);
  p.insert(p.end(), s.begin(), s.end());
  dims strides(rank);
  int64_t acc = 1;
  for (size_t i = rank; i-- > 0;) {
    strides[i] = acc;
    acc *= std::max<int64_t>(p[i], 1);
  }
  dims d(p.begin(), p.end());
  if (t) {
    std::swap(d[rank - 1], d[rank - 2]);
    std::swap(strides[rank - 1], strides[rank - 2]);
  }
  return dnnl::memory::desc(d, dnnl::memory::data_type::f32, strides);
}

class MatMulOp : public Op {
 public:
  explicit MatMulOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.outputs.size() != 1) throw OpError(name_, "matmul needs 1 output");
    const Shape& y0 = spec.outputs[0]->maxShape;
    post_ = PostOps(spec, y0.size() > 1 ? y0[1] : 1, y0.size());
    if (spec.inputs.size() != 2 + post_.operands()) throw OpError(name_, "matmul needs 2 inputs before its post-op operands");
    if (!post_.empty() && y0.size() != 2) throw OpError(name_, "matmul post-ops need a 2-D output");
    ta_ = spec.attrs.integer("transposeA", 0) != 0;
    tb_ = spec.attrs.integer("transposeB", 0) != 0;
    const Shape& a = spec.inputs[0]->maxShape;
    const Shape& b = spec.inputs[1]->maxShape;
    const Shape& y = spec.outputs[0]->maxShape;
    if (a.size() < 2 || b.size() < 2 || y.size() < std::max(a.size(), b.size()))
      throw OpError(name_, "matmul operands must have rank >= 2 and not exceed the output rank");
    if (y.size() > DNNL_MAX_NDIMS) throw OpError(name_, "matmul rank too large");
    const int64_t k = ta_ ? a[a.size() - 2] : a[a.size() - 1];
    flopsAtMax_ = 2.0 * static_cast<double>(numel(y)) * static_cast<double>(k);
    maxBatch_ = spec.maxBatch;
    batched_ = spec.outputs[0]->batched;
    if (spec.inputs[1]->constant) constB_ = spec.inputs[1]->data.data();
    impl_ = cache_.get(spec.maxBatch, [&] { return build(a, b, y); }).impl;
  }

  std::string impl() const override { return impl_; }

  // 2·K per output element; a batched output shrinks with n.
  double flops(int64_t n) const override {
    return batched_ ? flopsAtMax_ * static_cast<double>(n) / static_cast<double>(maxBatch_) : flopsAtMax_;
  }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (out[0].size() == 0) return;
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape, in[1].shape, out[0].shape); });
    if (constB_)
      runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.a, in[0].data}, {DNNL_ARG_DST, e.y, out[0].data}}, [&](MemoryArgs& args) {
        args[DNNL_ARG_WEIGHTS] = e.bw;
        post_.addArgs(args, e.y);
      });
    else
      runPrimitive(ctx, e.prim,
                   {{DNNL_ARG_SRC, e.a, in[0].data}, {DNNL_ARG_WEIGHTS, e.b, in[1].data}, {DNNL_ARG_DST, e.y, out[0].data}},
                   [&](MemoryArgs& args) { post_.addArgs(args, e.y); });
  }

 private:
  struct Entry {
    dnnl::matmul prim;
    dnnl::memory::desc a, b, y;
    dnnl::memory bw;  // a constant B in the primitive's layout
    std::string impl;
  };

  Entry build(const Shape& as, const Shape& bs, const Shape& ys) {
    Entry e;
    const size_t r = ys.size();
    e.a = operandDesc(as, r, ta_);
    e.b = operandDesc(bs, r, tb_);
    e.y = plainDesc(ys);
    if (e.a.dims()[r - 1] != e.b.dims()[r - 2]) throw OpError(name_, "matmul inner dimensions differ");
    const dnnl::memory::desc anyB(e.b.dims(), dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e.a, constB_ ? anyB : e.b, e.y), post_.attr(e.y), cpuEngine());
    if (constB_) e.bw = weightsCache_.get(e.b, constB_, pd.weights_desc());
    e.prim = dnnl::matmul(pd);
    e.impl = pd.impl_info_str();
    return e;
  }

  std::string name_;
  bool ta_ = false, tb_ = false;
  PostOps post_;
  std::string impl_;
  double flopsAtMax_ = 0;
  int64_t maxBatch_ = 1;
  bool batched_ = false;
  const float* constB_ = nullptr;
  WeightsCache weightsCache_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeMatMul(const OpSpec& spec) { return std::make_unique<MatMulOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("matmul", makeMatMul);

}  // namespace dynbatch
