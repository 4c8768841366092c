// GPU pool, lrn, softmax and reduce: ops that fold a window or an axis, one work-item per output.
#include "gpu/gpu_op.h"
#include "gpu/op_codes.h"

namespace dynbatch {
namespace gpu {
namespace {

std::vector<int64_t> pairAttr(const OpSpec& spec, const char* key, int64_t def) {
  std::vector<int64_t> v = spec.attrs.ints(key, {def, def});
  if (v.size() != 2) throw OpError(spec.name, std::string(key) + " needs 2 values (2-D pooling)");
  return v;
}

class PoolOp : public GpuOp {
 public:
  PoolOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("pool")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "pool needs 1 input and 1 output");
    if (spec.inputs[0]->maxShape.size() != 4) throw OpError(name_, "only 2-D pooling is implemented on GPU");
    const std::string kind = spec.attrs.str("kind");
    if (kind != "max" && kind != "avg") throw OpError(name_, "unknown pool kind '" + kind + "'");
    isMax_ = kind == "max";
    excludePad_ = spec.attrs.integer("excludePad", 1) != 0;
    if (!spec.attrs.has("kernel")) throw OpError(name_, "missing attribute 'kernel'");
    kernel2_ = pairAttr(spec, "kernel", 1);
    strides_ = pairAttr(spec, "strides", 1);
    dil_ = pairAttr(spec, "dilations", 1);
    pads_ = pairAttr(spec, "padsBegin", 0);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& x = in[0].shape;
    const Shape& y = out[0].shape;
    auto i = [&](int64_t v) { return toInt(v, name_); };
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, i(out[0].size()), i(x[2]), i(x[3]), i(y[2]), i(y[3]),
                    i(kernel2_[0]), i(kernel2_[1]), i(strides_[0]), i(strides_[1]), i(pads_[0]), i(pads_[1]), i(dil_[0]),
                    i(dil_[1]), cl_int{isMax_}, cl_int{excludePad_});
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  bool isMax_ = true, excludePad_ = true;
  std::vector<int64_t> kernel2_, strides_, dil_, pads_;
};

class LrnOp : public GpuOp {
 public:
  LrnOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("lrn")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "lrn needs 1 input and 1 output");
    const Attrs& a = spec.attrs;
    alpha_ = static_cast<float>(a.num("alpha"));
    beta_ = static_cast<float>(a.num("beta"));
    bias_ = static_cast<float>(a.num("bias", 1.0));
    size_ = a.integer("size");
    if (size_ < 1) throw OpError(name_, "lrn size must be >= 1");
    const std::string region = a.str("region", "across");
    if (region != "across" && region != "within") throw OpError(name_, "unknown lrn region '" + region + "'");
    across_ = region == "across";
    const size_t rank = spec.inputs[0]->maxShape.size();
    if (across_ ? rank < 3 || rank > 5 : rank != 4)
      throw OpError(name_, across_ ? "lrn input must have rank 3..5" : "lrn within a channel needs a 4-D input");
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& x = in[0].shape;
    // Across channels only the flat spatial extent matters: view it as H = all, W = 1.
    int64_t H = x[2], W = x.size() == 4 ? x[3] : 1;
    if (across_) H = numel(Shape(x.begin() + 2, x.end())), W = 1;
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_), toInt(x[1], name_),
                    toInt(H, name_), toInt(W, name_), toInt(size_, name_), alpha_, beta_, bias_, cl_int{across_});
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  cl_float alpha_, beta_, bias_;
  int64_t size_;
  bool across_ = true;
};

class SoftmaxOp : public GpuOp {
 public:
  SoftmaxOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("softmax")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "softmax needs 1 input and 1 output");
    axis_ = spec.attrs.integer("axis");
    log_ = spec.attrs.integer("log", 0) != 0;
    if (axis_ < 0 || axis_ >= static_cast<int64_t>(spec.inputs[0]->maxShape.size()))
      throw OpError(name_, "softmax axis " + std::to_string(axis_) + " is out of range");
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& x = in[0].shape;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= x[d];
    for (size_t d = static_cast<size_t>(axis_) + 1; d < x.size(); ++d) inner *= x[d];
    if (x[axis_] == 0) return;
    kernel_->launch(r.queue, static_cast<size_t>(outer * inner), in[0].mem, out[0].mem, toInt(outer * inner, name_),
                    toInt(x[axis_], name_), toInt(inner, name_), cl_int{log_});
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  int64_t axis_ = 1;
  bool log_ = false;
};

class ReduceOp : public GpuOp {
 public:
  ReduceOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("reduce")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "reduce needs 1 input and 1 output");
    static const std::map<std::string, ReduceCode> codes = {
        {"sum", REDUCE_SUM}, {"mean", REDUCE_MEAN},           {"max", REDUCE_MAX},
        {"min", REDUCE_MIN}, {"prod", REDUCE_PROD},           {"l1", REDUCE_L1},
        {"l2", REDUCE_L2},   {"sumsquare", REDUCE_SUMSQUARE}, {"logsumexp", REDUCE_LOGSUMEXP}};
    const std::string op = spec.attrs.str("op");
    auto it = codes.find(op);
    if (it == codes.end()) throw OpError(name_, "unknown reduce op '" + op + "'");
    code_ = it->second;
    const Shape& x = spec.inputs[0]->maxShape;
    reduced_.assign(x.size(), false);
    for (int64_t a : spec.attrs.ints("axes")) {
      if (a < 0 || a >= static_cast<int64_t>(x.size()))
        throw OpError(name_, "reduce axis " + std::to_string(a) + " out of range");
      reduced_[a] = true;
    }
    int64_t kept = 1;
    for (size_t d = 0; d < x.size(); ++d)
      if (!reduced_[d]) kept *= x[d];
    if (kept != numel(spec.outputs[0]->maxShape)) throw OpError(name_, "reduce output shape does not match the axes");
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& x = in[0].shape;
    const std::vector<int64_t> st = stridesOf(x);
    std::vector<int64_t> keptSize, keptStride, redSize, redStride;
    for (size_t d = 0; d < x.size(); ++d) {
      (reduced_[d] ? redSize : keptSize).push_back(x[d]);
      (reduced_[d] ? redStride : keptStride).push_back(st[d]);
    }
    const int64_t redCount = numel(redSize);
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_), code_,
                    static_cast<cl_int>(keptSize.size()), dims8(keptSize, name_), dims8(keptStride, name_),
                    static_cast<cl_int>(redSize.size()), dims8(redSize, name_), dims8(redStride, name_), toInt(redCount, name_));
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  cl_int code_ = 0;
  std::vector<bool> reduced_;
};

std::unique_ptr<GpuOp> makePool(const OpSpec& s, Builder& b) { return std::make_unique<PoolOp>(s, b); }
std::unique_ptr<GpuOp> makeLrn(const OpSpec& s, Builder& b) { return std::make_unique<LrnOp>(s, b); }
std::unique_ptr<GpuOp> makeSoftmax(const OpSpec& s, Builder& b) { return std::make_unique<SoftmaxOp>(s, b); }
std::unique_ptr<GpuOp> makeReduce(const OpSpec& s, Builder& b) { return std::make_unique<ReduceOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("pool", makePool, {"kind", "kernel", "strides", "dilations", "padsBegin", "padsEnd", "excludePad"});
DYNBATCH_REGISTER_GPU_OP("lrn", makeLrn, {"alpha", "beta", "bias", "size", "region"});
DYNBATCH_REGISTER_GPU_OP("softmax", makeSoftmax, {"axis", "log"});
DYNBATCH_REGISTER_GPU_OP("reduce", makeReduce, {"op", "axes", "keepDims"});

}  // namespace gpu
}  // namespace dynbatch
