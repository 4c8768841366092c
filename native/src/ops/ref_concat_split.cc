// concat joins x1..xk along `axis` into y; split cuts x along `axis` into y1..yk. Both move the
// same blocks, one per part and outer index, in opposite directions: one class serves both.
#include <cstring>
#include <string>

#include "op.h"
#include "parallel.h"

namespace dynbatch {
namespace {

class AxisPartsOp : public Op {
 public:
  // join: the inputs are the parts and the output the whole (concat); otherwise the reverse.
  AxisPartsOp(const OpSpec& spec, bool join) : name_(spec.name), join_(join) {
    const auto& parts = join ? spec.inputs : spec.outputs;
    const auto& whole = join ? spec.outputs : spec.inputs;
    if (parts.empty() || whole.size() != 1)
      throw OpError(name_,
                    join ? "concat takes at least one input and one output" : "split takes one input and at least one output");
    axis_ = spec.attrs.integer("axis");
    std::vector<Shape> shapes;
    for (auto* t : parts) shapes.push_back(t->maxShape);
    check(whole[0]->maxShape, shapes);
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const std::vector<Tensor>& parts = join_ ? in : out;
    const Tensor& whole = join_ ? out[0] : in[0];
    std::vector<Shape> shapes;
    for (auto& t : parts) shapes.push_back(t.shape);
    check(whole.shape, shapes);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= whole.shape[d];
    const size_t k = parts.size();
    // Elements each part holds per outer index, and where they start in a row of the whole.
    std::vector<int64_t> chunk(k), start(k);
    int64_t row = 0;
    for (size_t i = 0; i < k; ++i) {
      chunk[i] = outer == 0 ? 0 : parts[i].size() / outer;
      start[i] = row;
      row += chunk[i];
    }
    const int64_t jobs = outer * static_cast<int64_t>(k);
#pragma omp parallel for if (whole.size() > kParallelCopyMin && jobs > 1)
    for (int64_t j = 0; j < jobs; ++j) {
      const int64_t o = j / static_cast<int64_t>(k);
      const size_t i = static_cast<size_t>(j % static_cast<int64_t>(k));
      float* w = whole.data + o * row + start[i];
      float* p = parts[i].data + o * chunk[i];
      std::memcpy(join_ ? w : p, join_ ? p : w, static_cast<size_t>(chunk[i]) * sizeof(float));
    }
  }

 private:
  void check(const Shape& whole, const std::vector<Shape>& parts) const {
    const std::string op = join_ ? "concat" : "split";
    const int64_t rank = static_cast<int64_t>(whole.size());
    if (axis_ < 0 || axis_ >= rank) throw OpError(name_, op + ": axis " + std::to_string(axis_) + " is out of range");
    int64_t sum = 0;
    for (const auto& p : parts) {
      if (static_cast<int64_t>(p.size()) != rank)
        throw OpError(name_,
                      join_ ? "concat: inputs differ in rank from the output" : "split: outputs differ in rank from the input");
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis_ && p[d] != whole[d])
          throw OpError(name_,
                        join_ ? "concat: input dims differ off the concat axis" : "split: output dims differ off the split axis");
      sum += p[axis_];
    }
    if (sum != whole[axis_])
      throw OpError(name_, join_ ? "concat: output size along the axis is not the sum of the inputs'"
                                 : "split: output sizes along the axis do not add up to the input's");
  }

  std::string name_;
  bool join_;
  int64_t axis_ = 0;
};

std::unique_ptr<Op> makeConcat(const OpSpec& spec) { return std::make_unique<AxisPartsOp>(spec, true); }
std::unique_ptr<Op> makeSplit(const OpSpec& spec) { return std::make_unique<AxisPartsOp>(spec, false); }

}  // namespace

DYNBATCH_REGISTER_OP("concat", makeConcat);
DYNBATCH_REGISTER_OP("split", makeSplit);

}  // namespace dynbatch
