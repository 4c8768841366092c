// The executor: a Program is compiled once from a spec (tensors + ops in execution order)
// for a maximum batch; each Request owns the memory of every non-constant tensor and runs
// the program for any batch n <= maxBatch. Several requests of one program may run at once.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "op.h"

namespace dynbatch {

struct OpEntry {
  std::string type;
  std::string name;
  Attrs attrs;
  std::vector<int> inputs;   // tensor ids
  std::vector<int> outputs;  // tensor ids
};

struct ProgramSpec {
  int64_t maxBatch = 1;
  int threads = 1;
  std::vector<TensorDesc> tensors;
  std::vector<OpEntry> ops;
  std::vector<int> inputs;
  std::vector<int> outputs;
};

// Thrown for a malformed program spec or a bad run argument; becomes a JS Error.
class SpecError : public std::runtime_error {
 public:
  explicit SpecError(const std::string& msg) : std::runtime_error(msg) {}
};

class Program {
 public:
  // Validates the spec and creates every op once; throws SpecError or OpError.
  explicit Program(ProgramSpec spec);
  const ProgramSpec& spec() const { return spec_; }
  const std::vector<std::unique_ptr<Op>>& ops() const { return ops_; }
  // Bytes of tensor `id` at the maximum batch.
  size_t maxBytes(int id) const { return static_cast<size_t>(numel(spec_.tensors[id].maxShape)) * sizeof(float); }

 private:
  ProgramSpec spec_;
  std::vector<std::unique_ptr<Op>> ops_;
};

class Request {
 public:
  explicit Request(std::shared_ptr<const Program> program);
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  const Program& program() const { return *program_; }
  // Memory of a non-constant tensor sized for the maximum batch; throws SpecError otherwise.
  float* buffer(int id) const;
  // Marks the request busy; false when a run is already pending.
  bool tryAcquire() { return !busy_.exchange(true); }
  void release() { busy_.store(false); }
  // Runs every op for batch n on the calling thread; returns each op's time in µs.
  std::vector<double> run(int64_t n);

 private:
  std::shared_ptr<const Program> program_;
  std::vector<float*> buffers_;  // per tensor id; nullptr for constants
  std::atomic<bool> busy_{false};
};

}  // namespace dynbatch
