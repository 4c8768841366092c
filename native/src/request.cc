// Request: the buffers of one infer request over a compiled Program, and how it runs a batch
// (layers, single, samples), chosen per batch by measurement.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "cpu_affinity.h"
#include "dnnl_common.h"
#include "program.h"
#include "runner.h"
#include "sample_team.h"
#include "step_memory.h"

namespace dynbatch {

namespace {

// A step estimated to take less than this on one thread runs on one thread: waking the OpenMP
// team costs microseconds on an idle machine and far more on a busy one. Estimates: 4 bytes of
// memory traffic or 16 flops per nanosecond and core.
constexpr double kSmallStepNs = 20000;
constexpr double kBytesPerNs = 4, kFlopsPerNs = 16;

// Handoffs whose median is charged to the strategies that go through the Runner.
constexpr size_t kHandoffSamples = 15;

// Chunks of a run split by samples (see runSamples).
constexpr int64_t kChunksPerPart = 2;
constexpr int64_t kMinChunk = 4;

}  // namespace

Request::Request(std::shared_ptr<const Program> program) : program_(std::move(program)) {
  const Program& p = *program_;
  // A run split by samples gives each thread an arena of its own: threads are at different steps
  // at once, and tensors that share arena bytes in turn have different bytes per sample, so one
  // thread's samples of a later tensor would overlap another's samples of an earlier one. External
  // buffers hold one tensor each: every thread works on its own samples of them.
  // No more slices than cores: a thread count above them would only add arenas and waiting.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int slices = p.splitsSamples() ? std::min(p.spec().threads, cores) : 1;
  auto alloc = [&](size_t bytes) {
    void* m = std::aligned_alloc(kAlign, aligned(bytes));
    if (!m) throw std::bad_alloc();
    allocations_.push_back(m);
    // Zeroed once: blocked layouts' channel padding must read as zeros.
    std::memset(m, 0, aligned(bytes));
    return static_cast<char*>(m);
  };
  std::vector<char*> arenas(slices, nullptr);
  std::vector<float*> external(p.buffers().size(), nullptr);
  try {
    for (char*& arena : arenas) arena = p.arenaBytes() ? alloc(p.arenaBytes()) : nullptr;
    for (size_t b = 0; b < external.size(); ++b)
      if (p.buffers()[b].external) external[b] = reinterpret_cast<float*>(alloc(p.buffers()[b].bytes));
  } catch (...) {
    for (void* m : allocations_) std::free(m);
    throw;
  }
  for (int k = 0; k < slices; ++k) {
    std::vector<float*> data(p.tensors().size(), nullptr);
    std::vector<bool> shared(p.tensors().size(), false);
    for (size_t i = 0; i < data.size(); ++i) {
      const TensorPlan& t = p.tensors()[i];
      if (t.desc->constant) {
        data[i] = const_cast<float*>(t.desc->data.data());
      } else if (t.buffer >= 0) {
        const BufferPlan& bp = p.buffers()[t.buffer];
        shared[i] = bp.external;
        data[i] = bp.external ? external[t.buffer] : reinterpret_cast<float*>(arenas[k] + bp.offset);
      }
    }
    if (k == 0) data_ = data;
    args_.push_back(makeArgs(data, shared));
    streams_.push_back(std::make_unique<dnnl::stream>(cpuEngine()));
  }
}

std::vector<Request::StepArgs> Request::makeArgs(const std::vector<float*>& data, const std::vector<bool>& shared) const {
  const Program& p = *program_;
  std::vector<StepArgs> args(p.steps().size());
  const double maxBatch = static_cast<double>(p.spec().maxBatch);
  for (size_t s = 0; s < args.size(); ++s) {
    const Step& st = p.steps()[s];
    StepArgs& a = args[s];
    auto add = [&](int id, std::vector<Tensor>& ts, std::vector<float*>& bases, std::vector<size_t>& shifts,
                   std::vector<bool>& batched) {
      const TensorPlan& t = p.tensors()[id];
      const size_t bytes = layoutBytes(t.desc->maxShape, t.layout);
      Tensor x;
      x.data = data[id];
      x.shape = t.desc->maxShape;
      x.layout = t.layout;
      ts.push_back(x);
      bases.push_back(data[id]);
      batched.push_back(t.desc->batched);
      // Every layout keeps the batch outermost: sample k of a shared buffer starts k strides in.
      shifts.push_back(t.desc->batched && shared[id] ? bytes / p.spec().maxBatch : 0);
      if (t.desc->batched) a.bytesPerSample += static_cast<double>(bytes) / maxBatch;
      else a.bytesFixed += static_cast<double>(bytes);
    };
    for (int id : st.inputs) add(id, a.in, a.inBase, a.inShift, a.inBatched);
    for (int id : st.outputs) add(id, a.out, a.outBase, a.outShift, a.outBatched);
    a.memory = std::make_unique<StepMemory>();
  }
  return args;
}

Request::~Request() {
  for (void* m : allocations_) std::free(m);
}

float* Request::buffer(int id) const {
  const ProgramSpec& s = program_->spec();
  checkWritable(s, id, "buffer");
  if (std::find(s.inputs.begin(), s.inputs.end(), id) == s.inputs.end() &&
      std::find(s.outputs.begin(), s.outputs.end(), id) == s.outputs.end())
    throw SpecError("buffer: tensor " + std::to_string(id) + " is neither a program input nor a program output");
  return data_[id];
}

bool Request::canSplit(int64_t n) const { return program_->splitsSamples() && n >= 2; }

void Request::checkBatch(int64_t n) const {
  if (n < 1 || n > program_->spec().maxBatch)
    throw SpecError("batch " + std::to_string(n) + " is out of range 1.." + std::to_string(program_->spec().maxBatch));
}

StrategyTuner& Request::tuner(int64_t n) {
  auto it = tuners_.find(n);
  if (it != tuners_.end()) return it->second;
  const ProgramSpec& s = program_->spec();
  // On one thread, layer by layer is Single: it opens no OpenMP team, so a short run may stay on
  // the JS thread instead of paying the handoff to the Runner and back (tens of µs).
  std::vector<Strategy> candidates{s.threads > 1 ? Strategy::Layers : Strategy::Single};
  if (s.parallel == Parallel::Samples && canSplit(n)) {
    candidates = {Strategy::Samples};
  } else if (s.parallel == Parallel::Auto && s.threads > 1) {
    // The first candidate is the one kept unless another is clearly faster.
    if (canSplit(n)) candidates = {Strategy::Samples, Strategy::Layers, Strategy::Single};
    else candidates = {Strategy::Layers, Strategy::Single};
  }
  return tuners_.emplace(n, StrategyTuner(std::move(candidates))).first->second;
}

Strategy Request::strategy(int64_t n) const {
  auto it = tuners_.find(n);
  return it == tuners_.end() ? Strategy::Layers : it->second.next();
}

double Request::lastMicros(int64_t n) const {
  auto it = tuners_.find(n);
  return it == tuners_.end() ? -1 : it->second.lastMicros();
}

void Request::prepare(int64_t n) const {
  if (n < 1 || n > program_->spec().maxBatch) return;
  const Strategy s = strategy(n);
  if (viaRunner(s, lastMicros(n))) Runner::instance().prewake(program_->spec().threads, s == Strategy::Layers);
  if (s == Strategy::Samples && canSplit(n)) SampleTeam::instance().prewake();
}

bool Request::runsInline(int64_t n) const { return !viaRunner(strategy(n), lastMicros(n)); }

void Request::noteHandoff(double micros) {
  if (handoffs_.size() == kHandoffSamples) handoffs_.erase(handoffs_.begin());
  handoffs_.push_back(std::max(0.0, micros));
}

double Request::handoffMicros() const {
  if (handoffs_.empty()) return 0;
  std::vector<double> v = handoffs_;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

std::vector<double> Request::run(int64_t n) {
  checkBatch(n);
  StrategyTuner& t = tuner(n);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> times = run(n, t.next());
  t.record(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count(), handoffMicros());
  return times;
}

std::vector<double> Request::run(int64_t n, Strategy strategy) {
  checkBatch(n);
  std::vector<double> times(program_->steps().size());
  if (strategy == Strategy::Samples && canSplit(n)) runSamples(n, times);
  else runWhole(n, strategy == Strategy::Single ? Strategy::Single : Strategy::Layers, times);
  return times;
}

void Request::runWhole(int64_t n, Strategy strategy, std::vector<double>& times) {
  RunContext ctx;
  ctx.threads = strategy == Strategy::Single ? 1 : program_->spec().threads;
  ctx.engineStream = streams_[0].get();
  omp_set_num_threads(ctx.threads);
  keepTeamOffCaller(ctx.threads);
  runSteps(args_[0], ctx, 0, n, strategy, &times);
  streams_[0]->wait();
}

void Request::runSamples(int64_t n, std::vector<double>& times) {
  const int parts = static_cast<int>(std::min<int64_t>(n, static_cast<int64_t>(args_.size())));
  // The threads claim chunks of samples in turn rather than a fixed share each: a helper that
  // wakes late (tens of µs on a virtual machine, far longer while another process holds its core)
  // leaves its chunks to the threads already running instead of making the run wait for it.
  // About kChunksPerPart chunks per thread, but no smaller than kMinChunk samples (nor than a
  // fixed share): each chunk is one batch through the whole program, and small batches cost more
  // per sample.
  const int64_t share = (n + parts - 1) / parts;
  const int64_t chunk = std::max(std::min(kMinChunk, share), (n + parts * kChunksPerPart - 1) / (parts * kChunksPerPart));
  std::atomic<int64_t> claimed{0};
  std::vector<std::exception_ptr> errors(parts);
  // Each thread times its own steps, summed over its chunks. The threads run at once and the
  // request waits for the slowest, so a step's time is its slowest thread's: the steps then add up
  // to about the request's time, where a sum over the threads would add up to about parts × it
  // (CPU time, not latency).
  std::vector<std::vector<double>> partTimes(parts, std::vector<double>(times.size()));
  const std::function<void(int)> part = [&](int k) {
    RunContext ctx;
    ctx.threads = 1;
    ctx.engineStream = streams_[k].get();
    std::vector<double> chunkTimes(times.size());
    try {
      for (int64_t lo; (lo = claimed.fetch_add(chunk)) < n;) {
        runSteps(args_[k], ctx, lo, std::min(chunk, n - lo), Strategy::Single, &chunkTimes);
        for (size_t i = 0; i < chunkTimes.size(); ++i) partTimes[k][i] += chunkTimes[i];
      }
      streams_[k]->wait();
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  // Primitives see one thread (the per-batch caches key them apart from layer-parallel ones).
  omp_set_num_threads(1);
  // Another run holding the team: this one takes its samples on one thread.
  if (!SampleTeam::instance().run(parts, part)) return runWhole(n, Strategy::Single, times);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  for (const auto& pt : partTimes)
    for (size_t i = 0; i < times.size(); ++i) times[i] = std::max(times[i], pt[i]);
}

void Request::runSteps(std::vector<StepArgs>& args, RunContext& ctx, int64_t offset, int64_t count, Strategy strategy,
                       std::vector<double>* times) {
  const auto& steps = program_->steps();
  const int threads = ctx.threads;
  int current = threads;
  ctx.batch = count;
  auto place = [&](std::vector<Tensor>& ts, const std::vector<float*>& bases, const std::vector<size_t>& shifts,
                   const std::vector<bool>& batched) {
    for (size_t k = 0; k < ts.size(); ++k) {
      if (!batched[k]) continue;
      ts[k].data = reinterpret_cast<float*>(reinterpret_cast<char*>(bases[k]) + shifts[k] * offset);
      ts[k].shape[0] = count;
    }
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    StepArgs& a = args[i];
    place(a.in, a.inBase, a.inShift, a.inBatched);
    place(a.out, a.outBase, a.outShift, a.outBatched);
    if (strategy == Strategy::Layers && threads > 1) {
      const double ns = std::max((a.bytesFixed + a.bytesPerSample * static_cast<double>(count)) / kBytesPerNs,
                                 steps[i].op->flops(count) / kFlopsPerNs);
      const int want = ns < kSmallStepNs ? 1 : threads;
      if (want != current) omp_set_num_threads(current = want);
    }
    ctx.step = a.memory.get();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      steps[i].op->run(ctx, a.in, a.out);
    } catch (const OpError&) {
      throw;
    } catch (const std::exception& ex) {
      throw OpError(steps[i].name, steps[i].type + ": " + ex.what());
    }
    if (times) (*times)[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
}

}  // namespace dynbatch
