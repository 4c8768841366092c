// unary: elementwise activations. oneDNN eltwise where it has the algorithm (one primitive
// per element count, i.e. per batch), an OpenMP loop otherwise.
#include <cmath>

#include "dnnl_common.h"
#include "step_memory.h"

namespace dynbatch {
namespace {

using alg = dnnl::algorithm;

class UnaryOp : public Op {
 public:
  explicit UnaryOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "unary needs 1 input and 1 output");
    op_ = spec.attrs.str("op");
    const Attrs& a = spec.attrs;
    std::vector<float> params;
    if (op_ == "leakyrelu" || op_ == "hardsigmoid") params.push_back(static_cast<float>(a.num("alpha")));
    if (op_ == "elu") params.push_back(static_cast<float>(a.num("alpha", 1.0)));
    if (op_ == "clamp") params = {static_cast<float>(a.num("min")), static_cast<float>(a.num("max"))};
    if (op_ == "swish") params.push_back(static_cast<float>(a.num("beta", 1.0)));
    if (op_ == "hardsigmoid") params.push_back(static_cast<float>(a.num("beta")));
    const std::string name = op_ == "gelu" && a.str("approximation", "erf") == "tanh" ? "gelu_tanh" : op_;
    e_ = eltwiseFor(name, params);
    if (e_.algorithm == alg::undef && params.size() == 2) {
      e_.alpha = params[0];
      e_.beta = params[1];
    }
    shape_ = spec.inputs[0]->maxShape;
    const int64_t count = numel(shape_);
    if (e_.algorithm != alg::undef && count > 0) {
      dnnl::memory::desc md({count}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, e_.algorithm, md, e_.alpha, e_.beta);
      impl_ = dnnl::eltwise_forward::primitive_desc(d, scratchpadAttr(), cpuEngine()).impl_info_str();
    }
  }

  // Elementwise, so any layout works: oneDNN knows a blocked layout's channel padding, our own
  // loops run over flat buffers and need layouts without it.
  void negotiate(std::vector<Layout>& in, std::vector<Layout>& out) override {
    if (e_.algorithm == alg::undef && !flatCompatible(shape_, in[0])) in[0] = Layout::Plain;
    layout_ = in[0];
    out[0] = in[0];
  }

  int inplaceInput() const override { return 0; }

  std::string impl() const override { return impl_; }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const int64_t count = in[0].size();
    if (out[0].size() != count) throw OpError(name_, "input and output sizes differ");
    if (count == 0) return;
    if (e_.algorithm == alg::undef) return loop(in[0].data, out[0].data, count);
    // Plain tensors run as one flat vector (one primitive per element count).
    const bool flat = layout_ == Layout::Plain;
    auto& entry = cache_.get(flat ? count : in[0].shape[0], [&] {
      Entry e;
      e.md = flat ? dnnl::memory::desc({count}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a)
                  : layoutDesc(in[0].shape, layout_);
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, e_.algorithm, e.md, e_.alpha, e_.beta);
      e.prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, scratchpadAttr(), cpuEngine()));
      return e;
    });
    runPrimitive(ctx, entry.prim, {{DNNL_ARG_SRC, entry.md, in[0].data}, {DNNL_ARG_DST, entry.md, out[0].data}});
  }

 private:
  void loop(const float* x, float* y, int64_t count) const {
    if (op_ == "hsigmoid") {
#pragma omp parallel for if (count > kParallelMin)
      for (int64_t i = 0; i < count; ++i) y[i] = std::min(std::max(x[i] + 3.f, 0.f), 6.f) / 6.f;
    } else if (op_ == "hardsigmoid") {
      // oneDNN 2.6 has no hardsigmoid algorithm: max(0, min(1, alpha * x + beta)).
      const float alpha = e_.alpha, beta = e_.beta;
#pragma omp parallel for if (count > kParallelMin)
      for (int64_t i = 0; i < count; ++i) y[i] = std::min(std::max(alpha * x[i] + beta, 0.f), 1.f);
    } else if (op_ == "erf") {
#pragma omp parallel for if (count > kParallelMin)
      for (int64_t i = 0; i < count; ++i) y[i] = std::erf(x[i]);
    } else if (op_ == "floor") {
#pragma omp parallel for if (count > kParallelMin)
      for (int64_t i = 0; i < count; ++i) y[i] = std::floor(x[i]);
    } else {
#pragma omp parallel for if (count > kParallelMin)
      for (int64_t i = 0; i < count; ++i) y[i] = std::ceil(x[i]);
    }
  }

  std::string name_;
  std::string op_;
  Eltwise e_;
  Shape shape_;
  std::string impl_ = "ref";
  struct Entry {
    dnnl::eltwise_forward prim;
    dnnl::memory::desc md;
  };
  Layout layout_ = Layout::Plain;
  LazyCache<int64_t, Entry> cache_;
};

std::unique_ptr<Op> makeUnary(const OpSpec& spec) { return std::make_unique<UnaryOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("unary", makeUnary);

}  // namespace dynbatch
