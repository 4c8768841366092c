// pad: out dim = x dim + padsBegin + padsEnd per axis (negative pads crop). Outside x the value
// is `value` (constant), the nearest edge (edge), a mirror without the edge (reflect) or with
// it (symmetric), as in OpenVINO Pad-1 / ONNX Pad.
#include <string>

#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

enum class PadMode { Constant, Edge, Reflect, Symmetric };

class PadOp : public Op {
 public:
  explicit PadOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "pad takes one input and one output");
    begin_ = spec.attrs.ints("padsBegin");
    end_ = spec.attrs.ints("padsEnd");
    value_ = static_cast<float>(spec.attrs.num("value", 0.0));
    const std::string mode = spec.attrs.str("mode", "constant");
    if (mode == "constant") mode_ = PadMode::Constant;
    else if (mode == "edge") mode_ = PadMode::Edge;
    else if (mode == "reflect") mode_ = PadMode::Reflect;
    else if (mode == "symmetric") mode_ = PadMode::Symmetric;
    else throw OpError(name_, "pad: unknown mode '" + mode + "'");
    const TensorDesc& x = *spec.inputs[0];
    if (begin_.size() != x.maxShape.size() || end_.size() != x.maxShape.size())
      throw OpError(name_,
                    "pad: padsBegin and padsEnd need one entry per input axis (rank " + std::to_string(x.maxShape.size()) + ")");
    if (x.batched && !x.maxShape.empty() && (begin_[0] != 0 || end_[0] != 0))
      throw OpError(name_, "pad: the batch axis cannot be padded");
    maps(x.maxShape, spec.outputs[0]->maxShape);
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& xs = in[0].shape;
    const Shape& ys = out[0].shape;
    const size_t rank = xs.size();
    const std::vector<std::vector<int64_t>> map = maps(xs, ys);
    if (out[0].size() == 0) return;
    if (rank == 0) {
      out[0].data[0] = in[0].data[0];
      return;
    }
    const std::vector<int64_t> xstride = rowMajorStrides(xs);
    const int64_t inner = ys[rank - 1];
    const int64_t rows = out[0].size() / inner;
    const std::vector<int64_t>& innerMap = map[rank - 1];
    const float* src = in[0].data;
    float* dst = out[0].data;
    const float value = value_;
#pragma omp parallel for if (out[0].size() > kParallelCopyMin)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t rem = r, off = 0;
      bool outside = false;
      for (size_t d = rank - 1; d-- > 0;) {
        const int64_t i = map[d][rem % ys[d]];
        rem /= ys[d];
        if (i < 0) outside = true;
        else off += i * xstride[d];
      }
      float* o = dst + r * inner;
      if (outside) {
        for (int64_t k = 0; k < inner; ++k) o[k] = value;
        continue;
      }
      const float* x = src + off;
      for (int64_t k = 0; k < inner; ++k) {
        const int64_t i = innerMap[k];
        o[k] = i < 0 ? value : x[i];
      }
    }
  }

 private:
  // For every axis, the input index each output index reads (-1: the constant value).
  // Validates the shapes and that mirrored indices stay inside the input.
  std::vector<std::vector<int64_t>> maps(const Shape& xs, const Shape& ys) const {
    if (ys.size() != xs.size()) throw OpError(name_, "pad: output rank differs from input rank");
    std::vector<std::vector<int64_t>> map(xs.size());
    for (size_t d = 0; d < xs.size(); ++d) {
      const int64_t dim = xs[d];
      if (ys[d] != dim + begin_[d] + end_[d] || ys[d] < 0)
        throw OpError(name_, "pad: output size on axis " + std::to_string(d) + " is not input + padsBegin + padsEnd");
      map[d].resize(ys[d]);
      for (int64_t o = 0; o < ys[d]; ++o) {
        int64_t i = o - begin_[d];
        if (i < 0 || i >= dim) {
          switch (mode_) {
            case PadMode::Constant: i = -1; break;
            case PadMode::Edge: i = i < 0 ? 0 : dim - 1; break;
            case PadMode::Reflect: i = i < 0 ? -i : 2 * (dim - 1) - i; break;
            case PadMode::Symmetric: i = i < 0 ? -i - 1 : 2 * dim - 1 - i; break;
          }
          if (mode_ != PadMode::Constant && (i < 0 || i >= dim))
            throw OpError(name_, "pad: pads on axis " + std::to_string(d) + " are too large for this mode and an axis of size " +
                                     std::to_string(dim));
        }
        map[d][o] = i;
      }
    }
    return map;
  }

  std::string name_;
  std::vector<int64_t> begin_, end_;
  PadMode mode_ = PadMode::Constant;
  float value_ = 0.f;
};

std::unique_ptr<Op> makePad(const OpSpec& spec) { return std::make_unique<PadOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("pad", makePad);

}  // namespace dynbatch
