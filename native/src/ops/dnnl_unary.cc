// unary: elementwise activations. oneDNN eltwise where it has the algorithm (one primitive
// per element count, i.e. per batch), an OpenMP loop otherwise.
#include <cmath>

#include "dnnl_common.h"

namespace dynbatch {
namespace {

using alg = dnnl::algorithm;

struct Eltwise {
  alg algorithm = alg::undef;
  float alpha = 0.f, beta = 0.f;
};

class UnaryOp : public Op {
 public:
  explicit UnaryOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "unary needs 1 input and 1 output");
    op_ = spec.attrs.str("op");
    const Attrs& a = spec.attrs;
    if (op_ == "relu") e_ = {alg::eltwise_relu, 0.f, 0.f};
    else if (op_ == "leakyrelu") e_ = {alg::eltwise_relu, static_cast<float>(a.num("alpha")), 0.f};
    else if (op_ == "sigmoid") e_ = {alg::eltwise_logistic};
    else if (op_ == "tanh") e_ = {alg::eltwise_tanh};
    else if (op_ == "exp") e_ = {alg::eltwise_exp};
    else if (op_ == "log") e_ = {alg::eltwise_log};
    else if (op_ == "abs") e_ = {alg::eltwise_abs};
    else if (op_ == "sqrt") e_ = {alg::eltwise_sqrt};
    else if (op_ == "neg") e_ = {alg::eltwise_linear, -1.f, 0.f};
    else if (op_ == "elu") e_ = {alg::eltwise_elu, static_cast<float>(a.num("alpha", 1.0)), 0.f};
    else if (op_ == "clamp") e_ = {alg::eltwise_clip_v2, static_cast<float>(a.num("min")), static_cast<float>(a.num("max"))};
    else if (op_ == "hswish") e_ = {alg::eltwise_hardswish};
    else if (op_ == "swish") e_ = {alg::eltwise_swish, static_cast<float>(a.num("beta", 1.0)), 0.f};
    else if (op_ == "gelu") e_ = {a.str("approximation", "erf") == "tanh" ? alg::eltwise_gelu_tanh : alg::eltwise_gelu_erf};
    else if (op_ == "softplus") e_ = {alg::eltwise_soft_relu};
    else if (op_ == "mish") e_ = {alg::eltwise_mish};
    else if (op_ != "hsigmoid" && op_ != "floor" && op_ != "ceil") throw OpError(name_, "unknown unary op '" + op_ + "'");
  }

  void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const int64_t count = in[0].size();
    if (out[0].size() != count) throw OpError(name_, "input and output sizes differ");
    if (count == 0) return;
    if (e_.algorithm == alg::undef) return loop(in[0].data, out[0].data, count);
    auto& prim = cache_.get(count, [&] {
      dnnl::memory::desc md({count}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
      dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, e_.algorithm, md, e_.alpha, e_.beta);
      return dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, scratchpadAttr(), cpuEngine()));
    });
    dnnl::memory::desc md({count}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
    runPrimitive(ctx, prim, {{DNNL_ARG_SRC, dnnl::memory(md, cpuEngine(), in[0].data)},
                                  {DNNL_ARG_DST, dnnl::memory(md, cpuEngine(), out[0].data)}});
  }

 private:
  void loop(const float* x, float* y, int64_t count) const {
    if (op_ == "hsigmoid") {
#pragma omp parallel for
      for (int64_t i = 0; i < count; ++i) y[i] = std::min(std::max(x[i] + 3.f, 0.f), 6.f) / 6.f;
    } else if (op_ == "floor") {
#pragma omp parallel for
      for (int64_t i = 0; i < count; ++i) y[i] = std::floor(x[i]);
    } else {
#pragma omp parallel for
      for (int64_t i = 0; i < count; ++i) y[i] = std::ceil(x[i]);
    }
  }

  std::string name_;
  std::string op_;
  Eltwise e_;
  LazyCache<int64_t, dnnl::eltwise_forward> cache_;
};

std::unique_ptr<Op> makeUnary(const OpSpec& spec) { return std::make_unique<UnaryOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("unary", makeUnary);

}  // namespace dynbatch
