// binary: elementwise a (op) b with numpy broadcasting. oneDNN binary handles the case where
// only the second operand is broadcast (swapping operands of commutative ops); every other
// case, and pow/sqdiff which oneDNN binary lacks, runs an OpenMP loop over broadcast strides.
// Operands of the output's shape may arrive in any layout without channel padding (the op is
// then flat); a blocked first operand with a broadcast second one runs oneDNN on the layout.
#include <cmath>

#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

enum class Kind { Add, Sub, Mul, Div, Max, Min, Pow, SqDiff };

template <typename F>
void broadcastLoop(const Shape& outShape, const float* a, const std::vector<int64_t>& sa, const float* b,
                   const std::vector<int64_t>& sb, float* y, F f) {
  const size_t rank = outShape.size();
  if (rank == 0) {
    y[0] = f(a[0], b[0]);
    return;
  }
  const int64_t inner = outShape[rank - 1];
  const int64_t outer = numel(outShape) / std::max<int64_t>(inner, 1);
  if (inner == 0) return;
  const int64_t ia = sa[rank - 1], ib = sb[rank - 1];
#pragma omp parallel for
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rem = o, offA = 0, offB = 0;
    for (size_t d = rank - 1; d-- > 0;) {
      int64_t i = rem % outShape[d];
      rem /= outShape[d];
      offA += i * sa[d];
      offB += i * sb[d];
    }
    const float* pa = a + offA;
    const float* pb = b + offB;
    float* py = y + o * inner;
    for (int64_t i = 0; i < inner; ++i) py[i] = f(pa[i * ia], pb[i * ib]);
  }
}

Shape padRank(const Shape& s, size_t rank) {
  Shape r(rank - s.size(), 1);
  r.insert(r.end(), s.begin(), s.end());
  return r;
}

// [1, C, 1, 1] against a 4-D output with C channels.
bool perChannel(const Shape& b, const Shape& y) {
  return b.size() == 4 && y.size() == 4 && b[0] == 1 && b[1] == y[1] && b[2] == 1 && b[3] == 1;
}

struct Prepared {
  bool useDnnl = false;
  bool swap = false;
  std::string impl = "ref";
  dnnl::binary prim;
  dnnl::memory::desc src0, src1, dst;
};

class BinaryOp : public Op {
 public:
  explicit BinaryOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.outputs.size() != 1) throw OpError(name_, "binary needs 1 output");
    const Shape& y = spec.outputs[0]->maxShape;
    post_ = PostOps(spec, y.size() > 1 ? y[1] : 1, y.size());
    if (spec.inputs.size() != 2 + post_.operands()) throw OpError(name_, "binary needs 2 inputs before its post-op operands");
    const std::string op = spec.attrs.str("op");
    static const std::map<std::string, Kind> kinds = {{"add", Kind::Add}, {"sub", Kind::Sub},      {"mul", Kind::Mul},
                                                      {"div", Kind::Div}, {"max", Kind::Max},      {"min", Kind::Min},
                                                      {"pow", Kind::Pow}, {"sqdiff", Kind::SqDiff}};
    auto it = kinds.find(op);
    if (it == kinds.end()) throw OpError(name_, "unknown binary op '" + op + "'");
    kind_ = it->second;
    // Fail at creation rather than at run for shapes that cannot broadcast.
    broadcastStrides(spec.inputs[0]->maxShape, spec.outputs[0]->maxShape);
    broadcastStrides(spec.inputs[1]->maxShape, spec.outputs[0]->maxShape);
    as_ = spec.inputs[0]->maxShape;
    bs_ = spec.inputs[1]->maxShape;
    ys_ = spec.outputs[0]->maxShape;
    bConst_ = spec.inputs[1]->constant;
    if (!post_.empty() && !prepare(as_, bs_, ys_).useDnnl)
      throw OpError(name_, "post-ops need oneDNN binary: a of the output's shape and add/sub/mul/div/max/min");
  }

  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    layout_ = Layout::Plain;
    // oneDNN's jit binary wants a broadcast operand in the first one's layout, which only a
    // layout without channel padding makes the same bytes as the plain operand we hold.
    if (in[0] != Layout::Plain && as_ == ys_ && flatCompatible(ys_, in[0])) {
      if (bs_ == ys_ && !bConst_) {
        flat_ = in[0];
      } else if (perChannel(padRank(bs_, ys_.size()), ys_)) {
        layout_ = in[0];
        try {
          if (!prepare(as_, bs_, ys_).useDnnl) layout_ = Layout::Plain;
        } catch (const std::exception&) {
          layout_ = Layout::Plain;
        }
      }
    }
    try {
      impl_ = prepare(as_, bs_, ys_).impl;
    } catch (const std::exception&) {
      // Shapes are checked at creation; the impl name only labels performance counters.
    }
    in[0] = flat_ != Layout::Plain ? flat_ : layout_;
    in[1] = flat_ != Layout::Plain ? flat_ : Layout::Plain;
    for (size_t i = 2; i < in.size(); ++i) in[i] = Layout::Plain;
    out[0] = in[0];
  }

  int inplaceInput() const override { return as_ == ys_ ? 0 : -1; }

  std::string impl() const override { return impl_; }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& ys = out[0].shape;
    if (numel(ys) == 0) return;
    Prepared& p = cache_.get(ctx.batch, [&] { return prepare(in[0].shape, in[1].shape, ys); });
    const Tensor& a = p.swap ? in[1] : in[0];
    const Tensor& b = p.swap ? in[0] : in[1];
    if (p.useDnnl) {
      runPrimitive(ctx, p.prim,
                   {{DNNL_ARG_SRC_0, p.src0, a.data}, {DNNL_ARG_SRC_1, p.src1, b.data}, {DNNL_ARG_DST, p.dst, out[0].data}},
                   [&](MemoryArgs& args) { post_.addArgs(args, p.dst); });
      return;
    }
    auto sa = broadcastStrides(a.shape, ys);
    auto sb = broadcastStrides(b.shape, ys);
    const float* pa = a.data;
    const float* pb = b.data;
    float* y = out[0].data;
    switch (kind_) {
      case Kind::Add: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return u + v; });
      case Kind::Sub: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return u - v; });
      case Kind::Mul: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return u * v; });
      case Kind::Div: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return u / v; });
      case Kind::Max: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return std::max(u, v); });
      case Kind::Min: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return std::min(u, v); });
      case Kind::Pow: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return std::pow(u, v); });
      case Kind::SqDiff: return broadcastLoop(ys, pa, sa, pb, sb, y, [](float u, float v) { return (u - v) * (u - v); });
    }
  }

 private:
  Prepared prepare(const Shape& as, const Shape& bs, const Shape& ys) const {
    Prepared p;
    broadcastStrides(as, ys);
    broadcastStrides(bs, ys);
    const bool commutative = kind_ == Kind::Add || kind_ == Kind::Mul || kind_ == Kind::Max || kind_ == Kind::Min;
    const bool dnnlKind = kind_ != Kind::Pow && kind_ != Kind::SqDiff;
    if (!dnnlKind || ys.empty() || ys.size() > DNNL_MAX_NDIMS) {
      if (layout_ != Layout::Plain) throw std::runtime_error("a broadcast operand needs oneDNN in a blocked layout");
      return p;
    }
    if (as != ys) {
      if (!commutative || bs != ys) return p;
      p.swap = true;
    }
    static const std::map<Kind, dnnl::algorithm> algs = {
        {Kind::Add, dnnl::algorithm::binary_add}, {Kind::Sub, dnnl::algorithm::binary_sub},
        {Kind::Mul, dnnl::algorithm::binary_mul}, {Kind::Div, dnnl::algorithm::binary_div},
        {Kind::Max, dnnl::algorithm::binary_max}, {Kind::Min, dnnl::algorithm::binary_min}};
    p.src0 = layoutDesc(ys, layout_);
    const Shape b1 = padRank(p.swap ? as : bs, ys.size());
    p.src1 = layoutDesc(b1, layout_ != Layout::Plain && perChannel(b1, ys) ? layout_ : Layout::Plain);
    p.dst = layoutDesc(ys, layout_);
    dnnl::binary::desc d(algs.at(kind_), p.src0, p.src1, p.dst);
    dnnl::binary::primitive_desc pd(d, post_.attr(p.dst), cpuEngine());
    p.prim = dnnl::binary(pd);
    p.impl = pd.impl_info_str();
    p.useDnnl = true;
    return p;
  }

  std::string name_;
  Kind kind_;
  Shape as_, bs_, ys_;
  bool bConst_ = false;
  PostOps post_;
  std::string impl_ = "ref";
  Layout layout_ = Layout::Plain;  // of a and y when b is broadcast by oneDNN
  Layout flat_ = Layout::Plain;    // of a, b and y when all have the output's shape
  LazyCache<int64_t, Prepared> cache_;
};

std::unique_ptr<Op> makeBinary(const OpSpec& spec) { return std::make_unique<BinaryOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("binary", makeBinary);

}  // namespace dynbatch
