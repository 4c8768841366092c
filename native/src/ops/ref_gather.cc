// gather: out = x[:axis] + indicesShape + x[axis+1:], out[o, j, i] = x[o, indices[j], i]
// (indices are constant, resolved to non-negative values in TypeScript).
#include <algorithm>
#include <cstring>
#include <string>

#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

class GatherOp : public Op {
 public:
  explicit GatherOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "gather takes one input and one output");
    axis_ = spec.attrs.integer("axis");
    indices_ = spec.attrs.ints("indices");
    const Shape idxShape = spec.attrs.ints("indicesShape");
    if (numel(idxShape) != static_cast<int64_t>(indices_.size()))
      throw OpError(name_, "gather: indicesShape holds " + std::to_string(numel(idxShape)) + " elements but " +
                               std::to_string(indices_.size()) + " indices are given");
    const Shape& xs = spec.inputs[0]->maxShape;
    if (axis_ < 0 || axis_ >= static_cast<int64_t>(xs.size()))
      throw OpError(name_, "gather: axis " + std::to_string(axis_) + " is out of range");
    for (auto i : indices_) {
      if (i < 0) throw OpError(name_, "gather: negative index " + std::to_string(i));
      maxIndex_ = std::max(maxIndex_, i);
    }
    if (!indices_.empty() && maxIndex_ >= xs[axis_])
      throw OpError(name_,
                    "gather: index " + std::to_string(maxIndex_) + " is out of range for axis size " + std::to_string(xs[axis_]));
    Shape expect(xs.begin(), xs.begin() + axis_);
    expect.insert(expect.end(), idxShape.begin(), idxShape.end());
    expect.insert(expect.end(), xs.begin() + axis_ + 1, xs.end());
    if (expect != spec.outputs[0]->maxShape)
      throw OpError(name_, "gather: output shape does not match x[:axis] + indicesShape + x[axis+1:]");
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& xs = in[0].shape;
    if (static_cast<int64_t>(xs.size()) <= axis_) throw OpError(name_, "gather: input rank changed at run time");
    if (!indices_.empty() && maxIndex_ >= xs[axis_])
      throw OpError(name_,
                    "gather: index " + std::to_string(maxIndex_) + " is out of range for axis size " + std::to_string(xs[axis_]));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= xs[d];
    for (size_t d = axis_ + 1; d < xs.size(); ++d) inner *= xs[d];
    const int64_t count = static_cast<int64_t>(indices_.size());
    if (out[0].size() != outer * count * inner) throw OpError(name_, "gather: output size does not match at run time");
    const int64_t axisDim = xs[axis_];
    const float* src = in[0].data;
    float* dst = out[0].data;
    const int64_t jobs = outer * count;
#pragma omp parallel for if (out[0].size() > kParallelCopyMin)
    for (int64_t j = 0; j < jobs; ++j) {
      const int64_t o = j / count;
      const int64_t k = j % count;
      std::memcpy(dst + j * inner, src + (o * axisDim + indices_[k]) * inner, static_cast<size_t>(inner) * sizeof(float));
    }
  }

 private:
  std::string name_;
  int64_t axis_ = 0;
  std::vector<int64_t> indices_;
  int64_t maxIndex_ = 0;
};

std::unique_ptr<Op> makeGather(const OpSpec& spec) { return std::make_unique<GatherOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("gather", makeGather);

}  // namespace dynbatch
