// reduce: sum, mean, max, min, prod, l1, l2, sumsquare, logsumexp over sorted axes. An OpenMP
// loop over output elements (accumulating in double) covers every op uniformly, including
// logsumexp which oneDNN's reduction lacks; keepDims only changes the output's shape.
#include <cmath>
#include <limits>

#include "dnnl_common.h"

namespace dynbatch {
namespace {

enum class Kind { Sum, Mean, Max, Min, Prod, L1, L2, SumSquare, LogSumExp };

class ReduceOp : public Op {
 public:
  explicit ReduceOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 1 || spec.outputs.size() != 1) throw OpError(name_, "reduce needs 1 input and 1 output");
    static const std::map<std::string, Kind> kinds = {
        {"sum", Kind::Sum}, {"mean", Kind::Mean},           {"max", Kind::Max},
        {"min", Kind::Min}, {"prod", Kind::Prod},           {"l1", Kind::L1},
        {"l2", Kind::L2},   {"sumsquare", Kind::SumSquare}, {"logsumexp", Kind::LogSumExp}};
    const std::string op = spec.attrs.str("op");
    auto it = kinds.find(op);
    if (it == kinds.end()) throw OpError(name_, "unknown reduce op '" + op + "'");
    kind_ = it->second;
    const size_t rank = spec.inputs[0]->maxShape.size();
    reduced_.assign(rank, false);
    for (int64_t a : spec.attrs.ints("axes")) {
      if (a < 0 || a >= static_cast<int64_t>(rank)) throw OpError(name_, "reduce axis " + std::to_string(a) + " out of range");
      reduced_[a] = true;
    }
    Shape expect;
    const bool keep = spec.attrs.integer("keepDims", 0) != 0;
    for (size_t i = 0; i < rank; ++i) {
      if (!reduced_[i]) expect.push_back(spec.inputs[0]->maxShape[i]);
      else if (keep) expect.push_back(1);
    }
    if (numel(expect) != numel(spec.outputs[0]->maxShape)) throw OpError(name_, "reduce output shape does not match the axes");
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Shape& s = in[0].shape;
    Shape keptSize, redSize;
    std::vector<int64_t> keptStride, redStride;
    // Row-major strides (0 on size-1 axes, which only ever index 0).
    const std::vector<int64_t> strides = broadcastStrides(s, s);
    for (size_t i = 0; i < s.size(); ++i) {
      (reduced_[i] ? redSize : keptSize).push_back(s[i]);
      (reduced_[i] ? redStride : keptStride).push_back(strides[i]);
    }
    const int64_t outCount = numel(keptSize);
    const int64_t redCount = numel(redSize);
    const float* x = in[0].data;
    float* y = out[0].data;
    const Kind kind = kind_;
#pragma omp parallel for
    for (int64_t o = 0; o < outCount; ++o) {
      int64_t base = 0;
      for (int64_t rem = o, d = static_cast<int64_t>(keptSize.size()) - 1; d >= 0; --d) {
        base += (rem % keptSize[d]) * keptStride[d];
        rem /= keptSize[d];
      }
      auto at = [&](int64_t r) {
        int64_t off = base;
        for (int64_t d = static_cast<int64_t>(redSize.size()) - 1; d >= 0; --d) {
          off += (r % redSize[d]) * redStride[d];
          r /= redSize[d];
        }
        return static_cast<double>(x[off]);
      };
      double v;
      switch (kind) {
        case Kind::Max:
          v = -std::numeric_limits<double>::infinity();
          for (int64_t r = 0; r < redCount; ++r) v = std::max(v, at(r));
          break;
        case Kind::Min:
          v = std::numeric_limits<double>::infinity();
          for (int64_t r = 0; r < redCount; ++r) v = std::min(v, at(r));
          break;
        case Kind::Prod:
          v = 1;
          for (int64_t r = 0; r < redCount; ++r) v *= at(r);
          break;
        case Kind::L1:
          v = 0;
          for (int64_t r = 0; r < redCount; ++r) v += std::fabs(at(r));
          break;
        case Kind::L2:
        case Kind::SumSquare:
          v = 0;
          for (int64_t r = 0; r < redCount; ++r) v += at(r) * at(r);
          if (kind == Kind::L2) v = std::sqrt(v);
          break;
        case Kind::LogSumExp: {
          double m = -std::numeric_limits<double>::infinity();
          for (int64_t r = 0; r < redCount; ++r) m = std::max(m, at(r));
          double sum = 0;
          for (int64_t r = 0; r < redCount; ++r) sum += std::exp(at(r) - m);
          v = std::isinf(m) ? m : m + std::log(sum);
          break;
        }
        default:
          v = 0;
          for (int64_t r = 0; r < redCount; ++r) v += at(r);
          if (kind == Kind::Mean) v /= static_cast<double>(redCount);
      }
      y[o] = static_cast<float>(v);
    }
  }

 private:
  std::string name_;
  Kind kind_;
  std::vector<bool> reduced_;
};

std::unique_ptr<Op> makeReduce(const OpSpec& spec) { return std::make_unique<ReduceOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("reduce", makeReduce);

}  // namespace dynbatch
