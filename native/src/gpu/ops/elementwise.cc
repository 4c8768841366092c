// GPU unary, binary, prelu and batchnorm: one generic kernel each (the op is an argument).
#include <cmath>

#include "gpu/gpu_op.h"
#include "gpu/op_codes.h"

namespace dynbatch {
namespace gpu {
namespace {

class UnaryOp : public GpuOp {
 public:
  UnaryOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("unary")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "unary needs 1 input and 1 output");
    static const std::map<std::string, UnaryCode> codes = {{"relu", UNARY_RELU},
                                                           {"leakyrelu", UNARY_LEAKYRELU},
                                                           {"sigmoid", UNARY_SIGMOID},
                                                           {"tanh", UNARY_TANH},
                                                           {"exp", UNARY_EXP},
                                                           {"log", UNARY_LOG},
                                                           {"abs", UNARY_ABS},
                                                           {"sqrt", UNARY_SQRT},
                                                           {"neg", UNARY_NEG},
                                                           {"elu", UNARY_ELU},
                                                           {"clamp", UNARY_CLAMP},
                                                           {"hswish", UNARY_HSWISH},
                                                           {"hsigmoid", UNARY_HSIGMOID},
                                                           {"hardsigmoid", UNARY_HARDSIGMOID},
                                                           {"swish", UNARY_SWISH},
                                                           {"gelu", UNARY_GELU},
                                                           {"softplus", UNARY_SOFTPLUS},
                                                           {"mish", UNARY_MISH},
                                                           {"floor", UNARY_FLOOR},
                                                           {"ceil", UNARY_CEIL},
                                                           {"erf", UNARY_ERF}};
    const Attrs& a = spec.attrs;
    const std::string op = a.str("op");
    auto it = codes.find(op);
    if (it == codes.end()) throw OpError(name_, "unknown unary op '" + op + "'");
    code_ = it->second;
    if (op == "leakyrelu") alpha_ = static_cast<float>(a.num("alpha"));
    if (op == "elu") alpha_ = static_cast<float>(a.num("alpha", 1.0));
    if (op == "swish") alpha_ = static_cast<float>(a.num("beta", 1.0));
    if (op == "clamp") {
      alpha_ = static_cast<float>(a.num("min"));
      beta_ = static_cast<float>(a.num("max"));
    }
    if (op == "hardsigmoid") {
      alpha_ = static_cast<float>(a.num("alpha"));
      beta_ = static_cast<float>(a.num("beta"));
    }
    if (op == "gelu" && a.str("approximation", "erf") == "tanh") code_ = UNARY_GELU_TANH;
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    if (out[0].size() != in[0].size()) throw OpError(name_, "input and output sizes differ");
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_), code_, alpha_, beta_);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  cl_int code_ = 0;
  cl_float alpha_ = 0.f, beta_ = 0.f;
};

// Numpy broadcasting of `in` to `out` (right-aligned): element strides per output axis, 0 where broadcast.
std::vector<int64_t> broadcast(const Shape& in, const Shape& out, const std::string& layer) {
  if (in.size() > out.size()) throw OpError(layer, "operand rank exceeds the output rank");
  std::vector<int64_t> st(out.size(), 0);
  const std::vector<int64_t> own = stridesOf(in);
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == out[lead + i]) st[lead + i] = in[i] == 1 ? 0 : own[i];
    else if (in[i] != 1) throw OpError(layer, "shapes do not broadcast to the output");
  }
  return st;
}

// Drops size-1 axes and merges neighbours that both operands walk contiguously, so most
// launches index in one or two dimensions.
void collapse(Shape& dims, std::vector<int64_t>& sa, std::vector<int64_t>& sb) {
  Shape d;
  std::vector<int64_t> a, b;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!d.empty() && a.back() == sa[i] * dims[i] && b.back() == sb[i] * dims[i]) {
      d.back() *= dims[i];
      a.back() = sa[i];
      b.back() = sb[i];
      continue;
    }
    d.push_back(dims[i]);
    a.push_back(sa[i]);
    b.push_back(sb[i]);
  }
  dims = d;
  sa = a;
  sb = b;
}

// binary and prelu share the broadcasting kernel; prelu first maps its slope layout.
class BinaryOp : public GpuOp {
 public:
  BinaryOp(const OpSpec& spec, Builder& b, bool prelu) : name_(spec.name), prelu_(prelu), kernel_(b.kernel("binary")) {
    if (spec.inputs.size() != 2 || spec.outputs.size() != 1)
      throw OpError(name_, prelu ? "prelu needs inputs x, slope and 1 output" : "binary needs 2 inputs and 1 output");
    if (prelu) {
      code_ = BINARY_PRELU;
      slopeShape(spec.inputs[0]->maxShape, spec.inputs[1]->maxShape);
    } else {
      static const std::map<std::string, BinaryCode> codes = {{"add", BINARY_ADD}, {"sub", BINARY_SUB},      {"mul", BINARY_MUL},
                                                              {"div", BINARY_DIV}, {"max", BINARY_MAX},      {"min", BINARY_MIN},
                                                              {"pow", BINARY_POW}, {"sqdiff", BINARY_SQDIFF}};
      const std::string op = spec.attrs.str("op");
      auto it = codes.find(op);
      if (it == codes.end()) throw OpError(name_, "unknown binary op '" + op + "'");
      code_ = it->second;
      broadcast(spec.inputs[0]->maxShape, spec.outputs[0]->maxShape, name_);
      broadcast(spec.inputs[1]->maxShape, spec.outputs[0]->maxShape, name_);
    }
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    Shape dims = out[0].shape;
    if (numel(dims) == 0) return;
    std::vector<int64_t> sa = broadcast(in[0].shape, dims, name_);
    std::vector<int64_t> sb = broadcast(prelu_ ? slopeShape(in[0].shape, in[1].shape) : in[1].shape, dims, name_);
    collapse(dims, sa, sb);
    kernel_->launch(r.queue, out[0].size(), in[0].mem, in[1].mem, out[0].mem, toInt(out[0].size(), name_), code_,
                    static_cast<cl_int>(dims.size()), dims8(dims, name_), dims8(sa, name_), dims8(sb, name_));
  }

 private:
  // A slope of C values applies along axis 1; other slopes broadcast numpy-style.
  Shape slopeShape(const Shape& x, const Shape& s) const {
    if (x.empty()) throw OpError(name_, "prelu input must have rank >= 1");
    Shape out(x.size(), 1);
    if (numel(s) == 1) return out;
    if (s.size() == 1 && x.size() >= 2 && s[0] == x[1]) {
      out[1] = s[0];
      return out;
    }
    if (s.size() > x.size()) throw OpError(name_, "prelu slope rank exceeds input rank");
    std::copy(s.begin(), s.end(), out.end() - static_cast<long>(s.size()));
    broadcast(out, x, name_);
    return out;
  }

  std::string name_;
  bool prelu_;
  std::unique_ptr<Kernel> kernel_;
  cl_int code_ = 0;
};

// Inference batch norm folded into one scale and shift per channel at compile time.
class BatchNormOp : public GpuOp {
 public:
  BatchNormOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("channel_affine")) {
    if (spec.inputs.size() != 5 || spec.outputs.size() != 1)
      throw OpError(name_, "batchnorm needs x, gamma, beta, mean, var and 1 output");
    const Shape& x = spec.inputs[0]->maxShape;
    if (x.size() < 2) throw OpError(name_, "batchnorm input must have rank >= 2");
    const int64_t C = x[1];
    for (int i = 1; i < 5; ++i)
      if (!spec.inputs[i]->constant || numel(spec.inputs[i]->maxShape) != C)
        throw OpError(name_, "batchnorm parameters must be constants of " + std::to_string(C) + " values");
    const float eps = static_cast<float>(spec.attrs.num("epsilon"));
    std::vector<float> scale(C), shift(C);
    for (int64_t c = 0; c < C; ++c) {
      scale[c] = spec.inputs[1]->data[c] / std::sqrt(spec.inputs[4]->data[c] + eps);
      shift[c] = spec.inputs[2]->data[c] - spec.inputs[3]->data[c] * scale[c];
    }
    scale_ = b.upload(scale);
    shift_ = b.upload(shift);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& s = in[0].shape;
    const int64_t inner = s[1] == 0 ? 1 : in[0].size() / std::max<int64_t>(1, s[0] * s[1]);
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_), toInt(s[1], name_),
                    toInt(std::max<int64_t>(inner, 1), name_), scale_, cl_int{1}, shift_);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  Buffer scale_, shift_;
};

std::unique_ptr<GpuOp> makeUnary(const OpSpec& s, Builder& b) { return std::make_unique<UnaryOp>(s, b); }
std::unique_ptr<GpuOp> makeBinary(const OpSpec& s, Builder& b) { return std::make_unique<BinaryOp>(s, b, false); }
std::unique_ptr<GpuOp> makePrelu(const OpSpec& s, Builder& b) { return std::make_unique<BinaryOp>(s, b, true); }
std::unique_ptr<GpuOp> makeBatchNorm(const OpSpec& s, Builder& b) { return std::make_unique<BatchNormOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("unary", makeUnary, {"op", "alpha", "beta", "min", "max", "approximation"});
DYNBATCH_REGISTER_GPU_OP("binary", makeBinary, {"op"});
DYNBATCH_REGISTER_GPU_OP("prelu", makePrelu, {});
DYNBATCH_REGISTER_GPU_OP("batchnorm", makeBatchNorm, {"epsilon"});

}  // namespace gpu
}  // namespace dynbatch
