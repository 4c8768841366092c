// copy: out = x with the same element count (Reshape, Squeeze, Unsqueeze, Flatten, Convert,
// Identity all lower to it: row-major data does not move when only the shape changes).
#include "dnnl_common.h"

namespace dynbatch {
namespace {

class CopyOp : public Op {
 public:
  explicit CopyOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "copy takes one input and one output");
    if (numel(spec.inputs[0]->maxShape) != numel(spec.outputs[0]->maxShape))
      throw OpError(name_, "copy: input and output element counts differ");
  }

  // Row-major data does not move when only the shape changes: the executor lets the output
  // share the input's buffer (run() then sees equal pointers and does nothing).
  bool isView() const override { return true; }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const int64_t n = in[0].size();
    if (n != out[0].size()) throw OpError(name_, "copy: input and output element counts differ at run time");
    if (in[0].data == out[0].data || n == 0) return;
    copyBytes(out[0].data, in[0].data, static_cast<size_t>(n) * sizeof(float));
  }

 private:
  std::string name_;
};

std::unique_ptr<Op> makeCopy(const OpSpec& spec) { return std::make_unique<CopyOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("copy", makeCopy);

}  // namespace dynbatch
