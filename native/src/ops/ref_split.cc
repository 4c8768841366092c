// split: cuts x along `axis` into k outputs, each as long as its own shape says.
#include <cstring>
#include <string>

#include "op.h"

namespace dynbatch {
namespace {

class SplitOp : public Op {
 public:
  explicit SplitOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.empty()) throw OpError(name_, "split takes one input and at least one output");
    axis_ = spec.attrs.integer("axis");
    std::vector<Shape> ys;
    for (auto* t : spec.outputs) ys.push_back(t->maxShape);
    check(spec.inputs[0]->maxShape, ys);
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    std::vector<Shape> ys;
    for (auto& t : out) ys.push_back(t.shape);
    const Shape& xs = in[0].shape;
    check(xs, ys);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= xs[d];
    const size_t k = out.size();
    std::vector<int64_t> chunk(k), start(k);
    int64_t row = 0;
    for (size_t i = 0; i < k; ++i) {
      chunk[i] = outer == 0 ? 0 : out[i].size() / outer;
      start[i] = row;
      row += chunk[i];
    }
    const float* src = in[0].data;
    const int64_t jobs = outer * static_cast<int64_t>(k);
#pragma omp parallel for if (in[0].size() > 32768 && jobs > 1)
    for (int64_t j = 0; j < jobs; ++j) {
      const int64_t o = j / static_cast<int64_t>(k);
      const size_t i = static_cast<size_t>(j % static_cast<int64_t>(k));
      std::memcpy(out[i].data + o * chunk[i], src + o * row + start[i], static_cast<size_t>(chunk[i]) * sizeof(float));
    }
  }

 private:
  void check(const Shape& xs, const std::vector<Shape>& ys) const {
    const int64_t rank = static_cast<int64_t>(xs.size());
    if (axis_ < 0 || axis_ >= rank) throw OpError(name_, "split: axis " + std::to_string(axis_) + " is out of range");
    int64_t sum = 0;
    for (const auto& y : ys) {
      if (static_cast<int64_t>(y.size()) != rank) throw OpError(name_, "split: outputs differ in rank from the input");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis_ && y[d] != xs[d]) throw OpError(name_, "split: output dims differ off the split axis");
      sum += y[axis_];
    }
    if (sum != xs[axis_]) throw OpError(name_, "split: output sizes along the axis do not add up to the input's");
  }

  std::string name_;
  int64_t axis_ = 0;
};

std::unique_ptr<Op> makeSplit(const OpSpec& spec) { return std::make_unique<SplitOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("split", makeSplit);

}  // namespace dynbatch
