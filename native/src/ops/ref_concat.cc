// concat: joins x1..xk along `axis`; every other axis must agree.
#include <cstring>
#include <string>

#include "op.h"

namespace dynbatch {
namespace {

class ConcatOp : public Op {
 public:
  explicit ConcatOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.empty() || spec.outputs.size() != 1) throw OpError(name_, "concat takes at least one input and one output");
    axis_ = spec.attrs.integer("axis");
    std::vector<Shape> xs;
    for (auto* t : spec.inputs) xs.push_back(t->maxShape);
    check(xs, spec.outputs[0]->maxShape);
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    std::vector<Shape> xs;
    for (auto& t : in) xs.push_back(t.shape);
    const Shape& ys = out[0].shape;
    check(xs, ys);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= ys[d];
    const size_t k = in.size();
    // Elements each input contributes per outer index, and where they start in an output row.
    std::vector<int64_t> chunk(k), start(k);
    int64_t row = 0;
    for (size_t i = 0; i < k; ++i) {
      chunk[i] = outer == 0 ? 0 : in[i].size() / outer;
      start[i] = row;
      row += chunk[i];
    }
    float* dst = out[0].data;
    const int64_t jobs = outer * static_cast<int64_t>(k);
#pragma omp parallel for if (out[0].size() > 32768 && jobs > 1)
    for (int64_t j = 0; j < jobs; ++j) {
      const int64_t o = j / static_cast<int64_t>(k);
      const size_t i = static_cast<size_t>(j % static_cast<int64_t>(k));
      std::memcpy(dst + o * row + start[i], in[i].data + o * chunk[i], static_cast<size_t>(chunk[i]) * sizeof(float));
    }
  }

 private:
  void check(const std::vector<Shape>& xs, const Shape& ys) const {
    const int64_t rank = static_cast<int64_t>(ys.size());
    if (axis_ < 0 || axis_ >= rank) throw OpError(name_, "concat: axis " + std::to_string(axis_) + " is out of range");
    int64_t sum = 0;
    for (const auto& x : xs) {
      if (static_cast<int64_t>(x.size()) != rank) throw OpError(name_, "concat: inputs differ in rank from the output");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis_ && x[d] != ys[d]) throw OpError(name_, "concat: input dims differ off the concat axis");
      sum += x[axis_];
    }
    if (sum != ys[axis_]) throw OpError(name_, "concat: output size along the axis is not the sum of the inputs'");
  }

  std::string name_;
  int64_t axis_ = 0;
};

std::unique_ptr<Op> makeConcat(const OpSpec& spec) { return std::make_unique<ConcatOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("concat", makeConcat);

}  // namespace dynbatch
