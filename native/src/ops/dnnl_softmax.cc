// softmax: softmax / logsoftmax along one axis of a plain tensor; one primitive per batch n.
// Along a short innermost axis (SSD's [N, priors, classes] scores), oneDNN 2.6's jit softmax
// handles one masked row at a time (120 µs for 10112 rows of 2 on 2 threads); there the op
// subtracts each row's max itself, runs oneDNN's jit exp over the whole buffer, and normalizes
// each row: the same exp, 10x faster there.
#include <algorithm>
#include <cmath>

#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

// Rows at most this long take the row-wise path (the jit kernel is at par from a full vector).
constexpr int64_t kShortAxis = 8;
// Up to this many values (a classifier's scores for a few samples) the row-wise path is one serial
// pass with std::exp: the primitive call and three OpenMP regions cost more than the math (eye's
// 2 scores: 1.5 µs).
constexpr int64_t kFewValues = 256;

class SoftmaxOp : public Op {
 public:
  explicit SoftmaxOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "softmax needs 1 input and 1 output");
    axis_ = static_cast<int>(spec.attrs.integer("axis"));
    log_ = spec.attrs.integer("log", 0) != 0;
    const Shape& x = spec.inputs[0]->maxShape;
    if (axis_ < 0 || axis_ >= static_cast<int>(x.size()))
      throw OpError(name_, "softmax axis " + std::to_string(axis_) + " out of range for rank " + std::to_string(x.size()));
    const int64_t inner = numel(Shape(x.begin() + axis_ + 1, x.end()));
    rowLen_ = inner == 1 && x[axis_] <= kShortAxis ? x[axis_] : 0;
    impl_ = cache_.get(spec.maxBatch, [&] { return build(x); }).impl;
  }

  std::string impl() const override { return impl_; }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    if (in[0].size() == 0) return;
    Entry& e = cache_.get(ctx.batch, [&] { return build(in[0].shape); });
    if (rowLen_ > 0) return runRows(ctx, e, in[0], out[0]);
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.md, in[0].data}, {DNNL_ARG_DST, e.md, out[0].data}});
  }

 private:
  struct Entry {
    dnnl::primitive prim;  // the softmax, or the exp of the row-wise path
    dnnl::memory::desc md;
    std::string impl;
  };

  Entry build(const Shape& xs) const {
    Entry e;
    const auto prop = dnnl::prop_kind::forward_inference;
    if (rowLen_ > 0) {
      e.md = plainDesc({numel(xs)});
      dnnl::eltwise_forward::desc d(prop, dnnl::algorithm::eltwise_exp, e.md, 0.f, 0.f);
      dnnl::eltwise_forward::primitive_desc pd(d, scratchpadAttr(), cpuEngine());
      e.prim = dnnl::eltwise_forward(pd);
      e.impl = std::string("rows+") + pd.impl_info_str();
      return e;
    }
    e.md = plainDesc(xs);
    if (log_) {
      dnnl::logsoftmax_forward::desc d(prop, e.md, axis_);
      dnnl::logsoftmax_forward::primitive_desc pd(d, scratchpadAttr(), cpuEngine());
      e.prim = dnnl::logsoftmax_forward(pd);
      e.impl = pd.impl_info_str();
    } else {
      dnnl::softmax_forward::desc d(prop, e.md, axis_);
      dnnl::softmax_forward::primitive_desc pd(d, scratchpadAttr(), cpuEngine());
      e.prim = dnnl::softmax_forward(pd);
      e.impl = pd.impl_info_str();
    }
    return e;
  }

  // Rows of rowLen_ values: y = x - max(row) into out, exp of it (in place for softmax, into a
  // temporary for logsoftmax), then each row divided by its sum (log: x - max - log(sum)).
  void runRows(RunContext& ctx, Entry& e, const Tensor& in, const Tensor& out) const {
    float* ex = log_ ? static_cast<float*>(threadBuffer(1, e.md.get_size())) : out.data;
    const int64_t rows = in.size() / rowLen_;
    switch (rowLen_) {  // a constant row length lets the compiler vectorize across rows
      case 1: return rowPasses<1>(ctx, e, in.data, out.data, ex, rows);
      case 2: return rowPasses<2>(ctx, e, in.data, out.data, ex, rows);
      case 3: return rowPasses<3>(ctx, e, in.data, out.data, ex, rows);
      case 4: return rowPasses<4>(ctx, e, in.data, out.data, ex, rows);
      case 5: return rowPasses<5>(ctx, e, in.data, out.data, ex, rows);
      case 6: return rowPasses<6>(ctx, e, in.data, out.data, ex, rows);
      case 7: return rowPasses<7>(ctx, e, in.data, out.data, ex, rows);
      default: return rowPasses<8>(ctx, e, in.data, out.data, ex, rows);
    }
  }

  template <int K>
  void fewRows(const float* x, float* y, int64_t rows) const {
    for (int64_t r = 0; r < rows; ++r, x += K, y += K) {
      float m = x[0];
      for (int k = 1; k < K; ++k) m = std::max(m, x[k]);
      float ex[K], s = 0.f;
      for (int k = 0; k < K; ++k) s += ex[k] = std::exp(x[k] - m);
      if (log_) {
        const float ls = std::log(s);
        for (int k = 0; k < K; ++k) y[k] = x[k] - m - ls;
      } else {
        for (int k = 0; k < K; ++k) y[k] = ex[k] / s;
      }
    }
  }

  template <int K>
  void rowPasses(RunContext& ctx, Entry& e, const float* x, float* y, float* ex, int64_t rows) const {
    if (rows * K <= kFewValues) return fewRows<K>(x, y, rows);
    const bool parallel = rows * K > kParallelMin;
#pragma omp parallel for simd if (parallel)
    for (int64_t r = 0; r < rows; ++r) {
      float m = x[r * K];
      for (int k = 1; k < K; ++k) m = std::max(m, x[r * K + k]);
      for (int k = 0; k < K; ++k) y[r * K + k] = x[r * K + k] - m;
    }
    runPrimitive(ctx, e.prim, {{DNNL_ARG_SRC, e.md, y}, {DNNL_ARG_DST, e.md, ex}});
    if (log_) {
#pragma omp parallel for if (parallel)
      for (int64_t r = 0; r < rows; ++r) {
        float s = 0.f;
        for (int k = 0; k < K; ++k) s += ex[r * K + k];
        const float ls = std::log(s);
        for (int k = 0; k < K; ++k) y[r * K + k] -= ls;
      }
      return;
    }
#pragma omp parallel for simd if (parallel)
    for (int64_t r = 0; r < rows; ++r) {
      float s = 0.f;
      for (int k = 0; k < K; ++k) s += ex[r * K + k];
      for (int k = 0; k < K; ++k) y[r * K + k] = ex[r * K + k] / s;
    }
  }

  std::string name_;
  int axis_ = 0;
  bool log_ = false;
  int64_t rowLen_ = 0;  // > 0: the row-wise path
  std::string impl_;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeSoftmax(const OpSpec& spec) { return std::make_unique<SoftmaxOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("softmax", makeSoftmax);

}  // namespace dynbatch
