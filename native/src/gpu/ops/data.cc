// GPU data movement: copy, transpose, slice, concat and split (all one strided-copy kernel),
// gather, pad and interpolate.
#include <cmath>

#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

class CopyOp : public GpuOp {
 public:
  CopyOp(const OpSpec& spec, Builder&) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "copy takes one input and one output");
    if (numel(spec.inputs[0]->maxShape) != numel(spec.outputs[0]->maxShape))
      throw OpError(name_, "copy needs the same element count");
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    if (in[0].size() != out[0].size()) throw OpError(name_, "copy: input and output sizes differ at run time");
    if (out[0].size() == 0) return;
    check(clEnqueueCopyBuffer(r.queue, in[0].mem, out[0].mem, 0, 0, static_cast<size_t>(out[0].size()) * sizeof(float), 0,
                              nullptr, nullptr),
          "clEnqueueCopyBuffer");
  }

 private:
  std::string name_;
};

// transpose, slice, concat and split: index maps expressed as strides over the output (or piece).
class StridedOp : public GpuOp {
 public:
  enum class Kind { Transpose, Slice, Concat, Split };

  StridedOp(const OpSpec& spec, Builder& b, Kind kind) : name_(spec.name), kind_(kind), kernel_(b.kernel("strided_copy")) {
    const size_t nin = spec.inputs.size(), nout = spec.outputs.size();
    const size_t rank = spec.inputs.at(0)->maxShape.size();
    if (rank > static_cast<size_t>(kMaxRank)) throw OpError(name_, "rank " + std::to_string(rank) + " exceeds the GPU limit of 8");
    switch (kind) {
      case Kind::Transpose:
        if (nin != 1 || nout != 1) throw OpError(name_, "transpose takes one input and one output");
        perm_ = spec.attrs.ints("perm");
        if (perm_.size() != rank) throw OpError(name_, "transpose: perm needs one entry per axis");
        for (int64_t p : perm_)
          if (p < 0 || p >= static_cast<int64_t>(rank)) throw OpError(name_, "transpose: perm entry out of range");
        break;
      case Kind::Slice:
        if (nin != 1 || nout != 1) throw OpError(name_, "slice takes one input and one output");
        begin_ = spec.attrs.ints("begin");
        step_ = spec.attrs.ints("step");
        if (begin_.size() != rank || step_.size() != rank) throw OpError(name_, "slice: begin and step need one entry per axis");
        for (size_t d = 0; d < rank; ++d) {
          const int64_t count = spec.outputs[0]->maxShape[d], dim = spec.inputs[0]->maxShape[d];
          if (step_[d] == 0) throw OpError(name_, "slice: step must not be 0");
          if (count > 0 && (begin_[d] < 0 || begin_[d] >= dim || begin_[d] + (count - 1) * step_[d] < 0 ||
                            begin_[d] + (count - 1) * step_[d] >= dim))
            throw OpError(name_, "slice: axis " + std::to_string(d) + " reads outside the input");
        }
        break;
      case Kind::Concat:
      case Kind::Split:
        if ((kind == Kind::Concat ? nout : nin) != 1) throw OpError(name_, "concat/split: one whole tensor");
        axis_ = spec.attrs.integer("axis");
        if (axis_ < 0 || axis_ >= static_cast<int64_t>(rank)) throw OpError(name_, "axis out of range");
        break;
    }
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    switch (kind_) {
      case Kind::Transpose: {
        const std::vector<int64_t> xs = stridesOf(in[0].shape);
        std::vector<int64_t> ps(perm_.size());
        for (size_t d = 0; d < perm_.size(); ++d) ps[d] = xs[perm_[d]];
        return copy(r, in[0].mem, 0, out[0].mem, 0, out[0].shape, ps, stridesOf(out[0].shape));
      }
      case Kind::Slice: {
        const std::vector<int64_t> xs = stridesOf(in[0].shape);
        std::vector<int64_t> st(xs.size());
        int64_t off = 0;
        for (size_t d = 0; d < xs.size(); ++d) {
          off += begin_[d] * xs[d];
          st[d] = step_[d] * xs[d];
        }
        return copy(r, in[0].mem, off, out[0].mem, 0, out[0].shape, st, stridesOf(out[0].shape));
      }
      case Kind::Concat: {
        const std::vector<int64_t> ys = stridesOf(out[0].shape);
        int64_t at = 0;
        for (const DevTensor& t : in) {
          copy(r, t.mem, 0, out[0].mem, at * ys[axis_], t.shape, stridesOf(t.shape), ys);
          at += t.shape[axis_];
        }
        if (at != out[0].shape[axis_]) throw OpError(name_, "concat: inputs do not fill the output along the axis");
        return;
      }
      case Kind::Split: {
        const std::vector<int64_t> xs = stridesOf(in[0].shape);
        int64_t at = 0;
        for (const DevTensor& t : out) {
          copy(r, in[0].mem, at * xs[axis_], t.mem, 0, t.shape, xs, stridesOf(t.shape));
          at += t.shape[axis_];
        }
        if (at != in[0].shape[axis_]) throw OpError(name_, "split: outputs do not cover the input along the axis");
        return;
      }
    }
  }

 private:
  void copy(Run& r, cl_mem x, int64_t xoff, cl_mem y, int64_t yoff, const Shape& dims, const std::vector<int64_t>& xs,
            const std::vector<int64_t>& ys) {
    const int64_t count = numel(dims);
    kernel_->launch(r.queue, static_cast<size_t>(count), x, toInt(xoff, name_), y, toInt(yoff, name_), toInt(count, name_),
                    static_cast<cl_int>(dims.size()), dims8(dims, name_), dims8(xs, name_), dims8(ys, name_));
  }

  std::string name_;
  Kind kind_;
  std::unique_ptr<Kernel> kernel_;
  std::vector<int64_t> perm_, begin_, step_;
  int64_t axis_ = 0;
};

class GatherOp : public GpuOp {
 public:
  GatherOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("gather")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "gather takes one input and one output");
    const Shape& x = spec.inputs[0]->maxShape;
    axis_ = spec.attrs.integer("axis");
    if (axis_ < 0 || axis_ >= static_cast<int64_t>(x.size())) throw OpError(name_, "gather axis out of range");
    std::vector<cl_int> idx;
    for (int64_t v : spec.attrs.ints("indices")) {
      if (v < 0 || v >= x[axis_]) throw OpError(name_, "gather index " + std::to_string(v) + " is out of range");
      idx.push_back(static_cast<cl_int>(v));
    }
    count_ = static_cast<int64_t>(idx.size());
    if (idx.empty()) idx.push_back(0);
    indices_ = b.upload(idx);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const Shape& x = in[0].shape;
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis_) + 1; d < x.size(); ++d) inner *= x[d];
    kernel_->launch(r.queue, out[0].size(), in[0].mem, indices_, out[0].mem, toInt(out[0].size(), name_),
                    toInt(count_, name_), toInt(x[axis_], name_), toInt(inner, name_));
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  int64_t axis_ = 0, count_ = 0;
  Buffer indices_;
};

class PadOp : public GpuOp {
 public:
  PadOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("pad")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "pad takes one input and one output");
    begin_ = spec.attrs.ints("padsBegin");
    const std::vector<int64_t> end = spec.attrs.ints("padsEnd");
    value_ = static_cast<float>(spec.attrs.num("value", 0.0));
    static const std::map<std::string, int> modes = {{"constant", 0}, {"edge", 1}, {"reflect", 2}, {"symmetric", 3}};
    const std::string mode = spec.attrs.str("mode", "constant");
    auto it = modes.find(mode);
    if (it == modes.end()) throw OpError(name_, "pad: unknown mode '" + mode + "'");
    mode_ = it->second;
    const TensorDesc& x = *spec.inputs[0];
    const Shape& y = spec.outputs[0]->maxShape;
    if (begin_.size() != x.maxShape.size() || end.size() != x.maxShape.size() || y.size() != x.maxShape.size())
      throw OpError(name_, "pad: padsBegin and padsEnd need one entry per input axis");
    if (x.batched && !x.maxShape.empty() && (begin_[0] != 0 || end[0] != 0)) throw OpError(name_, "pad: the batch axis cannot be padded");
    for (size_t d = 0; d < y.size(); ++d) {
      const int64_t dim = x.maxShape[d];
      if (y[d] != dim + begin_[d] + end[d]) throw OpError(name_, "pad: output size on axis " + std::to_string(d) + " is not input + pads");
      // Mirrors must land inside the input: reflect needs pads < dim, symmetric pads <= dim.
      const int64_t most = std::max(begin_[d], end[d]);
      if (mode_ >= 1 && y[d] > 0 && (dim == 0 || (mode_ == 2 && most > dim - 1) || (mode_ == 3 && most > dim)))
        throw OpError(name_, "pad: pads on axis " + std::to_string(d) + " are too large for this mode and an axis of size " +
                                 std::to_string(dim));
    }
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_),
                    static_cast<cl_int>(out[0].shape.size()), dims8(out[0].shape, name_), dims8(in[0].shape, name_),
                    dims8(begin_, name_), mode_, value_);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  std::vector<int64_t> begin_;
  cl_int mode_ = 0;
  cl_float value_ = 0.f;
};

// Resize taps per axis, computed once on the host (the batch axis is never resized, so the
// table at the maximum batch serves every n).
class InterpolateOp : public GpuOp {
 public:
  InterpolateOp(const OpSpec& spec, Builder& b) : name_(spec.name), kernel_(b.kernel("interpolate")) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "interpolate takes one input and one output");
    const Attrs& a = spec.attrs;
    const std::string mode = a.str("mode");
    if (mode != "nearest" && mode != "linear") throw OpError(name_, "interpolate: unsupported mode '" + mode + "' (nearest, linear)");
    linear_ = mode == "linear";
    static const std::vector<std::string> coords = {"half_pixel", "pytorch_half_pixel", "asymmetric", "tf_half_pixel_for_nn",
                                                    "align_corners"};
    static const std::vector<std::string> nearests = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"};
    coord_ = indexOf(coords, a.str("coord", "half_pixel"), "coordinate transformation");
    nearest_ = indexOf(nearests, a.str("nearest", "round_prefer_floor"), "nearest mode");
    const std::vector<float> scales = a.floats("scales");
    const TensorDesc& x = *spec.inputs[0];
    const Shape& ys = spec.outputs[0]->maxShape;
    const size_t rank = x.maxShape.size();
    if (scales.size() != rank || ys.size() != rank) throw OpError(name_, "interpolate: scales and output need one entry per input axis");
    if (rank > static_cast<size_t>(kMaxRank)) throw OpError(name_, "interpolate: rank exceeds the GPU limit of 8");
    if (x.batched && rank > 0 && (scales[0] != 1.f || ys[0] != x.maxShape[0]))
      throw OpError(name_, "interpolate: the batch axis cannot be resized");
    std::vector<cl_int> idx;
    std::vector<cl_float> w;
    for (size_t d = 0; d < rank; ++d) {
      if (!(scales[d] > 0.f)) throw OpError(name_, "interpolate: scale on axis " + std::to_string(d) + " is not positive");
      if (x.maxShape[d] <= 0 && ys[d] > 0) throw OpError(name_, "interpolate: cannot resize an empty axis");
      base_.push_back(static_cast<int64_t>(idx.size() / 2));
      axisTaps(scales[d], x.maxShape[d], ys[d], idx, w);
    }
    if (idx.empty()) {  // rank 0: a buffer must not be empty
      idx = {0, 0};
      w = {1.f, 0.f};
    }
    taps_ = b.upload(idx);
    weights_ = b.upload(w);
  }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    if (out[0].size() == 0) return;
    kernel_->launch(r.queue, out[0].size(), in[0].mem, out[0].mem, toInt(out[0].size(), name_),
                    static_cast<cl_int>(out[0].shape.size()), dims8(out[0].shape, name_), dims8(stridesOf(in[0].shape), name_),
                    dims8(base_, name_), taps_, weights_);
  }

 private:
  int indexOf(const std::vector<std::string>& names, const std::string& v, const char* what) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == v) return static_cast<int>(i);
    throw OpError(name_, std::string("interpolate: unknown ") + what + " '" + v + "'");
  }

  // Output coordinate → input coordinate (OpenVINO's coordinate_transformation_mode).
  float toInput(float x, float scale, int64_t inDim, int64_t outDim) const {
    switch (coord_) {
      case 0: return (x + 0.5f) / scale - 0.5f;
      case 1: return outDim > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
      case 2: return x / scale;
      case 3: return (x + 0.5f) / scale;
      default: return outDim == 1 ? 0.f : x * static_cast<float>(inDim - 1) / static_cast<float>(outDim - 1);
    }
  }

  int64_t round(float x, float scale) const {
    switch (nearest_) {
      case 0: return x == std::floor(x) + 0.5f ? static_cast<int64_t>(std::floor(x)) : std::lround(x);
      case 1: return std::lround(x);
      case 2: return static_cast<int64_t>(std::floor(x));
      case 3: return static_cast<int64_t>(std::ceil(x));
      default: return scale < 1.f ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(x);
    }
  }

  // Appends (i0, i1) and (w0, w1) for every output index of one axis.
  void axisTaps(float scale, int64_t inDim, int64_t outDim, std::vector<cl_int>& idx, std::vector<cl_float>& w) const {
    const bool resized = inDim != outDim || scale != 1.f;
    for (int64_t o = 0; o < outDim; ++o) {
      int64_t i0 = o, i1 = o;
      float w0 = 1.f, w1 = 0.f;
      if (resized) {
        float c = toInput(static_cast<float>(o), scale, inDim, outDim);
        if (!linear_) {
          i0 = i1 = std::min(std::max<int64_t>(round(c, scale), 0), inDim - 1);
        } else {
          c = c < 0.f ? 0.f : (c > static_cast<float>(inDim - 1) ? static_cast<float>(inDim - 1) : c);
          i0 = static_cast<int64_t>(std::floor(c));
          i1 = i0 + 1 < inDim ? i0 + 1 : inDim - 1;
          const float f = c - static_cast<float>(i0);
          if (i1 != i0) {
            w0 = 1.f - f;
            w1 = f;
          }
        }
      }
      idx.push_back(toInt(i0, name_));
      idx.push_back(toInt(i1, name_));
      w.push_back(w0);
      w.push_back(w1);
    }
  }

  std::string name_;
  std::unique_ptr<Kernel> kernel_;
  bool linear_ = false;
  int coord_ = 0, nearest_ = 0;
  std::vector<int64_t> base_;
  Buffer taps_, weights_;
};

std::unique_ptr<GpuOp> makeCopy(const OpSpec& s, Builder& b) { return std::make_unique<CopyOp>(s, b); }
std::unique_ptr<GpuOp> makeTranspose(const OpSpec& s, Builder& b) {
  return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Transpose);
}
std::unique_ptr<GpuOp> makeSlice(const OpSpec& s, Builder& b) { return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Slice); }
std::unique_ptr<GpuOp> makeConcat(const OpSpec& s, Builder& b) { return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Concat); }
std::unique_ptr<GpuOp> makeSplit(const OpSpec& s, Builder& b) { return std::make_unique<StridedOp>(s, b, StridedOp::Kind::Split); }
std::unique_ptr<GpuOp> makeGather(const OpSpec& s, Builder& b) { return std::make_unique<GatherOp>(s, b); }
std::unique_ptr<GpuOp> makePad(const OpSpec& s, Builder& b) { return std::make_unique<PadOp>(s, b); }
std::unique_ptr<GpuOp> makeInterpolate(const OpSpec& s, Builder& b) { return std::make_unique<InterpolateOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("copy", makeCopy, {});
DYNBATCH_REGISTER_GPU_OP("transpose", makeTranspose, {"perm"});
DYNBATCH_REGISTER_GPU_OP("slice", makeSlice, {"begin", "step"});
DYNBATCH_REGISTER_GPU_OP("concat", makeConcat, {"axis"});
DYNBATCH_REGISTER_GPU_OP("split", makeSplit, {"axis"});
DYNBATCH_REGISTER_GPU_OP("gather", makeGather, {"axis", "indices", "indicesShape"});
DYNBATCH_REGISTER_GPU_OP("pad", makePad, {"padsBegin", "padsEnd", "mode", "value"});
DYNBATCH_REGISTER_GPU_OP("interpolate", makeInterpolate, {"mode", "coord", "nearest", "scales"});

}  // namespace gpu
}  // namespace dynbatch
