// The contract between the executor (program.cc) and every native operation (ops/*.cc).
// An op is created once per compiled program from an OpSpec (primitive-descriptor style:
// create once, execute many) and may then be run concurrently by several infer requests,
// each with its own tensors and a batch n <= maxBatch.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dynbatch {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Elements between neighbours along each axis of a row-major tensor of shape `s`.
inline std::vector<int64_t> rowMajorStrides(const Shape& s) {
  std::vector<int64_t> stride(s.size());
  int64_t n = 1;
  for (size_t d = s.size(); d-- > 0;) {
    stride[d] = n;
    n *= s[d];
  }
  return stride;
}

// How an activation lies in memory. Plain is row-major (NCHW for 4-D); the others are the
// 4-D formats oneDNN prefers for convolutions (nhwc, channels in blocks of 8 or 16, padded with
// zeros). Every layout keeps the batch outermost, so a tensor at batch n is a prefix of its
// max-batch buffer.
enum class Layout : int8_t { Plain, Nhwc, NChw8c, NChw16c };

const char* layoutName(Layout layout);

// Bytes of a tensor of `shape` stored in `layout` (blocked layouts round the channels up).
size_t layoutBytes(const Shape& shape, Layout layout);

// Static description of one tensor of the program (all runtime tensors are fp32).
struct TensorDesc {
  Shape maxShape;           // shape at the maximum batch
  bool batched = false;     // axis 0 is the batch: at batch n the shape is {n, maxShape[1..]}
  bool constant = false;    // data is fixed at compile time (weights, folded values)
  std::vector<float> data;  // only for constants
  Shape shapeAt(int64_t n) const {
    Shape s = maxShape;
    if (batched && !s.empty()) s[0] = n;
    return s;
  }
};

// A tensor as an op sees it during one run: data pointer, the shape at this run's batch and
// the layout the executor agreed with the op (see Op::negotiate).
struct Tensor {
  float* data = nullptr;
  Shape shape;
  Layout layout = Layout::Plain;
  int64_t size() const { return numel(shape); }
};

// Attribute values passed from TypeScript: numbers, number lists and strings.
class Attrs {
 public:
  std::map<std::string, std::vector<double>> nums;
  std::map<std::string, std::string> strs;

  bool has(const std::string& k) const { return nums.count(k) || strs.count(k); }
  double num(const std::string& k) const;
  double num(const std::string& k, double def) const { return nums.count(k) ? num(k) : def; }
  int64_t integer(const std::string& k) const { return static_cast<int64_t>(num(k)); }
  int64_t integer(const std::string& k, int64_t def) const { return nums.count(k) ? integer(k) : def; }
  std::vector<int64_t> ints(const std::string& k) const;
  std::vector<int64_t> ints(const std::string& k, const std::vector<int64_t>& def) const { return nums.count(k) ? ints(k) : def; }
  std::vector<float> floats(const std::string& k) const;
  std::vector<float> floats(const std::string& k, const std::vector<float>& def) const { return nums.count(k) ? floats(k) : def; }
  const std::string& str(const std::string& k) const;
  std::string str(const std::string& k, const std::string& def) const { return strs.count(k) ? strs.at(k) : def; }
};

// What an op factory receives: its type, layer name (for errors), attributes and the
// static descriptions of its inputs and outputs (constants carry their data).
struct OpSpec {
  std::string type;
  std::string name;
  Attrs attrs;
  std::vector<const TensorDesc*> inputs;
  std::vector<const TensorDesc*> outputs;
  int64_t maxBatch = 1;
};

class StepMemory;

// Per-run state shared by all ops of one run (one infer request, one thread).
struct RunContext {
  int64_t batch = 1;             // this run's n
  int threads = 1;               // OpenMP threads for this run
  void* engineStream = nullptr;  // dnnl::stream* owned by the executor (oneDNN ops cast it)
  // What the running step keeps between runs of this request on this thread slice (see
  // step_memory.h); null where nothing is kept.
  StepMemory* step = nullptr;
};

class Op {
 public:
  virtual ~Op() = default;
  // Called concurrently from several requests: implementations guard any lazily built
  // state (e.g. a per-batch primitive cache) themselves.
  virtual void run(RunContext& ctx, const std::vector<Tensor>& in, const std::vector<Tensor>& out) = 0;
  // Layout negotiation, once at compile time in execution order: `in[i]` holds the layout input
  // i is produced in; the op sets it to the layout it reads (the executor inserts a reorder where
  // they differ) and sets `out[i]` to the layout it writes. Constants are always Plain. The
  // default reads and writes everything Plain.
  virtual void negotiate(std::vector<Layout>& in, std::vector<Layout>& out);
  // Index of an input whose buffer may also hold output 0 (the op computes in place), or -1.
  virtual int inplaceInput() const { return -1; }
  // Output 0 holds exactly input 0's bytes (a reshape): the executor may share one buffer.
  virtual bool isView() const { return false; }
  // The implementation that runs at the maximum batch, for performance counters ("jit:avx2").
  virtual std::string impl() const { return "ref"; }
  // The precision the op computes in, as OpenVINO's performance counters name it ("FP32", "U8").
  virtual std::string precision() const { return "FP32"; }
  // Floating-point operations of a run at batch n, for ops whose time is arithmetic rather than
  // memory traffic (the executor picks the thread count of small steps from it).
  virtual double flops(int64_t n) const { return 0; }
};

using OpFactory = std::function<std::unique_ptr<Op>(const OpSpec&)>;

// Registry of op factories by type name; ops register themselves from their own file.
class OpRegistry {
 public:
  static OpRegistry& instance();
  void add(const std::string& type, OpFactory f);
  std::unique_ptr<Op> create(const OpSpec& spec) const;  // throws OpError for unknown types
  std::vector<std::string> types() const;

 private:
  std::map<std::string, OpFactory> factories_;
};

struct OpRegistrar {
  OpRegistrar(const std::string& type, OpFactory f) { OpRegistry::instance().add(type, std::move(f)); }
};

#define DYNBATCH_REGISTER_OP(type, factory) static ::dynbatch::OpRegistrar dynbatch_registrar_##factory(type, factory)

// Error with the layer name, raised at creation or run time; becomes a JS Error.
class OpError : public std::runtime_error {
 public:
  OpError(const std::string& layer, const std::string& msg) : std::runtime_error("layer '" + layer + "': " + msg) {}
};

}  // namespace dynbatch
