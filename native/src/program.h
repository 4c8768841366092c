// The executor: a Program is compiled once from a spec (tensors + ops in execution order)
// for a maximum batch; each Request owns the memory of every non-constant tensor and runs
// the program for any batch n <= maxBatch. Several requests of one program may run at once.
//
// Compilation negotiates a memory layout per tensor (ops such as conv keep oneDNN's blocked
// layouts between layers; the executor inserts reorder steps only where a consumer needs
// another layout, and program inputs/outputs are always plain), then plans buffers: reshapes
// share their input's buffer, in-place ops write over an input that dies there, and tensors
// whose lifetimes do not overlap share one arena region.
#pragma once
#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "op.h"
#include "program_spec.h"
#include "strategy_tuner.h"

namespace dnnl {
struct stream;
}

namespace dynbatch {

// Buffers and arena ranges start on a cache line, which is also what AVX-512 loads like.
constexpr size_t kAlign = 64;

inline size_t aligned(size_t bytes) { return std::max<size_t>((bytes + kAlign - 1) / kAlign * kAlign, kAlign); }

// One executed step: a spec op or a reorder the executor inserted.
struct Step {
  Op* op = nullptr;
  int specOp = -1;  // index into spec().ops; -1 for an inserted reorder
  std::string name;
  std::string type;                  // native op type ("conv", "reorder", ...)
  std::vector<int> inputs, outputs;  // tensor ids, inserted tensors included
};

// Where a tensor lives: its layout and, for non-constants, its buffer.
struct TensorPlan {
  const TensorDesc* desc = nullptr;
  Layout layout = Layout::Plain;
  int buffer = -1;  // index into buffers(); -1 for constants
};

// One memory region of a request: allocated alone (`external`: it holds a program input or
// output, exposed to JS, or a tensor read before any op writes it), or a range of the arena.
struct BufferPlan {
  size_t bytes = 0;
  bool external = false;
  size_t offset = 0;  // in the arena, when not external
};

class Program {
 public:
  // Validates the spec, creates every op once, negotiates layouts and plans buffers;
  // throws SpecError or OpError.
  explicit Program(ProgramSpec spec);
  const ProgramSpec& spec() const { return spec_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<TensorPlan>& tensors() const { return tensors_; }
  const std::vector<BufferPlan>& buffers() const { return buffers_; }
  size_t arenaBytes() const { return arenaBytes_; }
  // Whether threads may split a run by samples: independent samples and every non-constant
  // tensor has the batch outermost.
  bool splitsSamples() const { return splitsSamples_; }
  // Bytes of program tensor `id` (plain) at the maximum batch.
  size_t maxBytes(int id) const { return static_cast<size_t>(numel(spec_.tensors[id].maxShape)) * sizeof(float); }

 private:
  void negotiateLayouts();
  int converted(int tensor, Layout layout, const std::string& name, int beforeStep);
  void planBuffers();

  ProgramSpec spec_;
  std::vector<std::unique_ptr<Op>> ops_;  // spec ops, then inserted reorders
  std::deque<TensorDesc> inserted_;       // descs of tensors the executor added (stable addresses)
  std::vector<TensorPlan> tensors_;
  std::vector<Step> steps_;
  std::vector<std::pair<int, int>> aliases_;  // (tensor, source): same bytes in another layout
  std::vector<BufferPlan> buffers_;
  size_t arenaBytes_ = 0;
  bool splitsSamples_ = false;
};

class Request {
 public:
  explicit Request(std::shared_ptr<const Program> program);
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  const Program& program() const { return *program_; }
  // Memory of a program input or output sized for the maximum batch; throws SpecError otherwise.
  float* buffer(int id) const;
  // Marks the request busy; false when a run is already pending.
  bool tryAcquire() { return !busy_.exchange(true); }
  void release() { busy_.store(false); }
  // Runs every step for batch n from the calling thread with the strategy its tuner gives for n
  // (see strategy_tuner.h). Returns each step's time in µs (the first thread's, for a
  // run split by samples).
  std::vector<double> run(int64_t n);
  // Runs with the given strategy (Samples falls back to Layers where it cannot apply).
  std::vector<double> run(int64_t n, Strategy strategy);
  // Wall time in µs of the last run at n; negative before the first.
  double lastMicros(int64_t n) const;
  // Whether the next run at n should execute on the calling JS thread: it is known to be short
  // (under kInlineMicros) and its strategy opens no OpenMP team (see sample_team.h).
  bool runsInline(int64_t n) const;
  // Records what a run handed to the Runner cost beyond its own time (thread wake-ups both ways),
  // which the strategy choice charges to the strategies that go through the Runner.
  void noteHandoff(double micros);
  // The strategy runs at n use now, or the one being tried while the request is still measuring.
  Strategy strategy(int64_t n) const;
  // A run at n is about to start (its inputs are being written): the threads it will use are woken
  // now (the inference thread and its OpenMP team where it goes through the Runner, the sample
  // helpers where it splits by samples). Does nothing for n out of range.
  void prepare(int64_t n) const;

 private:
  // A step's tensors as one thread sees them: data at sample `offset`, axis 0 of batched tensors = count.
  struct StepArgs {
    std::vector<Tensor> in, out;
    std::vector<float*> inBase, outBase;
    std::vector<bool> inBatched, outBatched;
    // Bytes from one sample to the next in a buffer the threads share; 0 where each thread's
    // samples start at the base (its own arena) or the tensor has no batch axis.
    std::vector<size_t> inShift, outShift;
    double bytesFixed = 0, bytesPerSample = 0;  // memory a run touches: fixed + per-sample · n
    std::unique_ptr<StepMemory> memory;         // what the step's primitives keep from run to run
  };
  double handoffMicros() const;
  StrategyTuner& tuner(int64_t n);

  // Step arguments over per-tensor memory; `shared[id]`: the tensor lives in an external buffer.
  std::vector<StepArgs> makeArgs(const std::vector<float*>& data, const std::vector<bool>& shared) const;
  bool canSplit(int64_t n) const;
  // Throws SpecError unless 1 <= n <= maxBatch.
  void checkBatch(int64_t n) const;
  // All n samples from the calling thread, by layers or on one thread.
  void runWhole(int64_t n, Strategy strategy, std::vector<double>& times);
  void runSteps(std::vector<StepArgs>& args, RunContext& ctx, int64_t offset, int64_t count, Strategy strategy,
                std::vector<double>* times);
  void runSamples(int64_t n, std::vector<double>& times);

  std::shared_ptr<const Program> program_;
  std::vector<void*> allocations_;                      // external buffers and the arenas (one per thread of a sample split)
  std::vector<float*> data_;                            // per tensor id, as the first thread of a run sees them
  std::vector<std::vector<StepArgs>> args_;             // per thread of a run, per step; reused by every run
  std::vector<std::unique_ptr<dnnl::stream>> streams_;  // per thread of a run
  std::map<int64_t, StrategyTuner> tuners_;
  std::vector<double> handoffs_;  // the latest few, in µs
  std::atomic<bool> busy_{false};
};

}  // namespace dynbatch
