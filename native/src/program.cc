#include "program.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "dnnl_common.h"
#include "sample_team.h"

namespace dynbatch {

namespace {

constexpr size_t kAlign = 64;  // cache line; also what AVX-512 loads like

// A step estimated to take less than this on one thread runs on one thread: waking the OpenMP
// team costs microseconds on an idle machine and far more on a busy one. Estimates: 4 bytes of
// memory traffic or 16 flops per nanosecond and core.
constexpr double kSmallStepNs = 20000;
constexpr double kBytesPerNs = 4, kFlopsPerNs = 16;

size_t aligned(size_t bytes) { return std::max<size_t>((bytes + kAlign - 1) / kAlign * kAlign, kAlign); }

// Whether two layouts of a tensor put every value at the same offset: always for 1x1 maps of
// nhwc/plain, and for blocked layouts when the channels fill whole blocks too.
bool sameOffsets(const Shape& s, Layout a, Layout b) {
  if (a == b) return true;
  if (s.size() != 4 || s[2] * s[3] != 1) return false;
  return layoutBytes(s, a) == layoutBytes(s, Layout::Plain) && layoutBytes(s, b) == layoutBytes(s, Layout::Plain);
}

// Union-find over tensor ids with what buffer planning needs per group.
struct Groups {
  std::vector<int> parent;
  std::vector<int> firstDef, lastUse;
  std::vector<int> external;  // a program input/output member, or -1
  std::vector<bool> hasInput;
  explicit Groups(size_t n) : parent(n), firstDef(n, INT_MAX), lastUse(n, -1), external(n, -1), hasInput(n, false) {
    for (size_t i = 0; i < n; ++i) parent[i] = static_cast<int>(i);
  }
  int find(int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    parent[b] = a;
    firstDef[a] = std::min(firstDef[a], firstDef[b]);
    lastUse[a] = std::max(lastUse[a], lastUse[b]);
    if (external[a] < 0) external[a] = external[b];
    hasInput[a] = hasInput[a] || hasInput[b];
  }
};

}  // namespace

Program::Program(ProgramSpec spec) : spec_(std::move(spec)) {
  validateSpec(spec_);
  // oneDNN sizes a primitive's thread team when it is created: use the program's count.
  omp_set_num_threads(spec_.threads);
  tensors_.resize(spec_.tensors.size());
  for (size_t i = 0; i < spec_.tensors.size(); ++i) tensors_[i].desc = &spec_.tensors[i];
  ops_.reserve(spec_.ops.size());
  for (const OpEntry& e : spec_.ops) ops_.push_back(OpRegistry::instance().create(opSpecOf(spec_, e)));
  negotiateLayouts();
  planBuffers();
  splitsSamples_ = spec_.independentSamples && spec_.threads > 1 && spec_.maxBatch > 1;
  for (const TensorPlan& t : tensors_)
    if (t.buffer >= 0 && !t.desc->batched) splitsSamples_ = false;
}

void Program::negotiateLayouts() {
  const size_t count = spec_.tensors.size();
  std::vector<bool> external(count, false);
  for (int id : spec_.inputs) external[id] = true;
  for (int id : spec_.outputs) external[id] = true;
  // Per spec tensor: the tensor ids holding its current value, by layout, and the layout its
  // producer wrote (where consumers start negotiating).
  std::vector<std::map<Layout, int>> versions(count);
  std::vector<Layout> native(count, Layout::Plain);
  for (size_t i = 0; i < count; ++i) versions[i][Layout::Plain] = static_cast<int>(i);

  auto addTensor = [&](int like, Layout layout) {
    TensorDesc d;
    d.maxShape = tensors_[like].desc->maxShape;
    d.batched = tensors_[like].desc->batched;
    inserted_.push_back(std::move(d));
    TensorPlan p;
    p.desc = &inserted_.back();
    p.layout = layout;
    tensors_.push_back(p);
    return static_cast<int>(tensors_.size()) - 1;
  };
  auto addReorder = [&](int from, int to, const std::string& name) {
    OpSpec os;
    os.type = "reorder";
    os.name = name;
    os.attrs.strs["from"] = layoutName(tensors_[from].layout);
    os.attrs.strs["to"] = layoutName(tensors_[to].layout);
    os.maxBatch = spec_.maxBatch;
    os.inputs.push_back(tensors_[from].desc);
    os.outputs.push_back(tensors_[to].desc);
    ops_.push_back(OpRegistry::instance().create(os));
    Step st;
    st.op = ops_.back().get();
    st.name = name;
    st.type = "reorder";
    st.inputs = {from};
    st.outputs = {to};
    steps_.push_back(std::move(st));
  };

  std::vector<bool> written(count, false);
  for (size_t i = 0; i < spec_.ops.size(); ++i) {
    const OpEntry& e = spec_.ops[i];
    std::vector<Layout> in(e.inputs.size()), out(e.outputs.size(), Layout::Plain);
    for (size_t j = 0; j < in.size(); ++j) in[j] = native[e.inputs[j]];
    try {
      ops_[i]->negotiate(in, out);
    } catch (const OpError&) {
      throw;
    } catch (const std::exception& ex) {
      throw OpError(e.name, e.type + ": " + ex.what());
    }
    Step st;
    st.op = ops_[i].get();
    st.specOp = static_cast<int>(i);
    st.name = e.name;
    st.type = e.type;
    for (size_t j = 0; j < in.size(); ++j) {
      const int id = e.inputs[j];
      auto& v = versions[id];
      auto found = v.find(in[j]);
      if (found == v.end()) {
        if (spec_.tensors[id].constant) throw OpError(e.name, "a constant input must be read in plain layout");
        const int from = v.at(native[id]);
        const int tmp = addTensor(id, in[j]);
        // Layouts that put every value at the same offset (1x1 maps, whole channel blocks) need
        // no reorder: the consumer reads the same buffer under its own layout.
        if (sameOffsets(spec_.tensors[id].maxShape, native[id], in[j])) aliases_.emplace_back(tmp, from);
        else addReorder(from, tmp, e.name + "/reorder_in" + std::to_string(j));
        found = v.emplace(in[j], tmp).first;
      }
      st.inputs.push_back(found->second);
    }
    std::vector<std::pair<int, int>> toPlain;  // (written tensor, external tensor) reorders after the step
    std::vector<size_t> toPlainSlot;
    for (size_t j = 0; j < out.size(); ++j) {
      const int id = e.outputs[j];
      if (written[id] && out[j] != native[id])
        throw SpecError("op '" + e.name + "': tensor " + std::to_string(id) + " is written twice in different layouts");
      written[id] = true;
      versions[id].clear();
      native[id] = out[j];
      int target = id;
      if (out[j] != Layout::Plain) {
        if (external[id]) {
          // Users read program outputs plain: the op writes a blocked copy that is reordered out.
          target = addTensor(id, out[j]);
          toPlain.emplace_back(target, id);
          toPlainSlot.push_back(j);
          versions[id][Layout::Plain] = id;
        } else {
          tensors_[id].layout = out[j];
        }
      }
      versions[id][out[j]] = target;
      st.outputs.push_back(target);
    }
    steps_.push_back(std::move(st));
    for (size_t k = 0; k < toPlain.size(); ++k)
      addReorder(toPlain[k].first, toPlain[k].second, e.name + "/reorder_out" + std::to_string(toPlainSlot[k]));
  }
}

void Program::planBuffers() {
  const int count = static_cast<int>(tensors_.size());
  Groups g(count);
  std::vector<bool> used(count, false);
  std::vector<bool> alias(count, false);
  for (auto& [a, from] : aliases_) alias[a] = true;
  for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
    for (int id : steps_[s].inputs) {
      used[id] = true;
      // Read before any write: live from the start (an alias lives as long as its source).
      if (g.firstDef[id] == INT_MAX && !alias[id]) g.firstDef[id] = -1;
      g.lastUse[id] = s;
    }
    for (int id : steps_[s].outputs) {
      used[id] = true;
      g.firstDef[id] = std::min(g.firstDef[id], s);
      g.lastUse[id] = std::max(g.lastUse[id], s);
    }
  }
  for (int id : spec_.inputs) {
    used[id] = true;
    g.external[id] = id;
    g.hasInput[id] = true;
    g.firstDef[id] = -1;
  }
  for (int id : spec_.outputs) {
    used[id] = true;
    g.external[id] = id;
    g.lastUse[id] = INT_MAX;
  }
  auto bytes = [&](int id) { return layoutBytes(tensors_[id].desc->maxShape, tensors_[id].layout); };
  auto isConst = [&](int id) { return tensors_[id].desc->constant; };
  for (auto& [a, from] : aliases_) g.unite(from, a);

  for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
    const Step& st = steps_[s];
    if (st.inputs.empty() || st.outputs.empty()) continue;
    const int b = st.outputs[0];
    if (st.op->isView()) {
      const int a = st.inputs[0];
      const bool bothExternal = g.external[g.find(a)] >= 0 && g.external[g.find(b)] >= 0;
      if (!isConst(a) && tensors_[a].layout == Layout::Plain && tensors_[b].layout == Layout::Plain && bytes(a) == bytes(b) &&
          !bothExternal)
        g.unite(a, b);
      continue;
    }
    const int k = st.op->inplaceInput();
    if (k < 0 || k >= static_cast<int>(st.inputs.size())) continue;
    const int a = st.inputs[k];
    if (isConst(a) || tensors_[a].layout != tensors_[b].layout || bytes(a) != bytes(b)) continue;
    const int ga = g.find(a), gb = g.find(b);
    // The input's memory may be overwritten only when nothing reads it later, it is not the
    // user's input, no other operand of the step lives there and the output is fresh.
    bool ok =
        ga != gb && !g.hasInput[ga] && g.lastUse[ga] <= s && g.firstDef[gb] >= s && !(g.external[ga] >= 0 && g.external[gb] >= 0);
    for (size_t j = 0; ok && j < st.inputs.size(); ++j)
      if (static_cast<int>(j) != k && g.find(st.inputs[j]) == ga) ok = false;
    if (ok) g.unite(a, b);
  }

  // One buffer per group; internal groups share the arena when their lifetimes are disjoint.
  std::vector<int> bufferOf(count, -1);
  std::vector<size_t> groupBytes(count, 0);
  std::vector<bool> needed(count, false);
  for (int id = 0; id < count; ++id) {
    if (!used[id] || isConst(id)) continue;
    const int r = g.find(id);
    needed[r] = true;
    groupBytes[r] = std::max(groupBytes[r], bytes(id));
  }
  std::vector<int> arenaGroups;
  for (int r = 0; r < count; ++r) {
    if (!needed[r]) continue;
    BufferPlan p;
    p.bytes = aligned(groupBytes[r]);
    p.external = g.external[r] >= 0 || g.firstDef[r] < 0;
    bufferOf[r] = static_cast<int>(buffers_.size());
    buffers_.push_back(p);
    if (!p.external) arenaGroups.push_back(r);
  }
  std::stable_sort(arenaGroups.begin(), arenaGroups.end(),
                   [&](int x, int y) { return buffers_[bufferOf[x]].bytes > buffers_[bufferOf[y]].bytes; });
  std::vector<int> placed;
  for (int r : arenaGroups) {
    BufferPlan& p = buffers_[bufferOf[r]];
    // Lowest offset that overlaps no placed group alive at the same time.
    std::vector<std::pair<size_t, size_t>> busy;
    for (int q : placed)
      if (g.firstDef[q] <= g.lastUse[r] && g.firstDef[r] <= g.lastUse[q])
        busy.emplace_back(buffers_[bufferOf[q]].offset, buffers_[bufferOf[q]].offset + buffers_[bufferOf[q]].bytes);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (auto& [lo, hi] : busy) {
      if (offset + p.bytes <= lo) break;
      offset = std::max(offset, hi);
    }
    p.offset = offset;
    arenaBytes_ = std::max(arenaBytes_, offset + p.bytes);
    placed.push_back(r);
  }
  for (int id = 0; id < count; ++id)
    if (used[id] && !isConst(id)) tensors_[id].buffer = bufferOf[g.find(id)];
}

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

const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::Layers: return "layers";
    case Strategy::Single: return "single";
    case Strategy::Samples: return "samples";
  }
  return "?";
}

bool Request::canSplit(int64_t n) const { return program_->splitsSamples() && n >= 2; }

void Request::checkBatch(int64_t n) const {
  if (n < 1 || n > program_->spec().maxBatch)
    throw SpecError("batch " + std::to_string(n) + " is out of range 1.." + std::to_string(program_->spec().maxBatch));
}

bool Request::viaRunner(Strategy strategy, double micros) {
  return strategy == Strategy::Layers || micros < 0 || micros >= kInlineMicros;
}

namespace {

// Rounds over the candidate strategies when a request measures them for a batch: one untimed
// (the first run at a batch builds its primitives), then timed ones, interleaved so that a busy
// moment on a shared machine falls on every candidate alike. A candidate is judged by its fastest
// run, which such a moment cannot make look better than it is. From the second timed round on,
// candidates slower than kDrop times the best are out (a network whose runs take 300 ms should not
// run on one thread six more times to prove it; one round alone is not enough: the first runs
// after a change of batch are often slow for no fault of the strategy), and the measuring stops
// after kRounds timed rounds or kBudgetUs of timed runs. The choice is measured again once
// kRetuneRuns runs and kRetuneUs of run time have passed, as the machine's load changes and as a
// busy moment during the measuring may have hidden the best candidate (measuring costs about 1%).
constexpr int kRounds = 6;
constexpr double kDrop = 1.5;
constexpr double kBudgetUs = 200000;
constexpr int kRetuneRuns = 500;
constexpr double kRetuneUs = 2e6;
constexpr double kMargin = 0.05;
constexpr size_t kHandoffSamples = 15;

}  // namespace

Request::Tuning& Request::tuning(int64_t n) {
  auto it = tuning_.find(n);
  if (it != tuning_.end()) return it->second;
  Tuning t;
  const ProgramSpec& s = program_->spec();
  if (s.parallel == Parallel::Samples && canSplit(n)) {
    t.candidates = {Strategy::Samples};
  } else if (s.parallel == Parallel::Auto && s.threads > 1) {
    // The first candidate is the one kept unless another is clearly faster.
    if (canSplit(n)) t.candidates = {Strategy::Samples, Strategy::Layers, Strategy::Single};
    else t.candidates = {Strategy::Layers, Strategy::Single};
  } else {
    t.candidates = {Strategy::Layers};
  }
  restart(t);
  if (t.candidates.size() == 1) t.chosen = 0;
  return tuning_.emplace(n, std::move(t)).first->second;
}

void Request::restart(Tuning& t) {
  t.count.assign(t.candidates.size(), 0);
  t.fastest.assign(t.candidates.size(), 0);
  t.dropped.assign(t.candidates.size(), false);
  t.next = 0;
  t.spentUs = 0;
  t.chosen = -1;
  t.sinceUs = 0;
  t.runs = 0;
}

void Request::advance(Tuning& t, size_t c) const {
  const size_t size = t.candidates.size();
  if (t.count[c]++ > 0) {
    t.fastest[c] = t.count[c] == 2 ? t.lastUs : std::min(t.fastest[c], t.lastUs);
    t.spentUs += t.lastUs;
  }
  size_t k = c;
  do k = (k + 1) % size;
  while (t.dropped[k]);
  t.next = k;
  if (k > c) return;  // the round goes on
  int timedRounds = INT_MAX;
  for (size_t i = 0; i < size; ++i)
    if (!t.dropped[i]) timedRounds = std::min(timedRounds, t.count[i] - 1);
  if (timedRounds < 1) return;
  // What a caller waits for: a strategy that cannot run inline also pays the handoff.
  auto cost = [&](size_t i) { return t.fastest[i] + (viaRunner(t.candidates[i], t.fastest[i]) ? handoffMicros() : 0); };
  // A margin keeps near-ties on the earliest candidate, so two requests of one network (dynamic
  // and static, say) measured at different moments still choose alike.
  size_t best = size;
  for (size_t i = 0; i < size; ++i)
    if (!t.dropped[i] && (best == size || cost(i) < cost(best) * (1 - kMargin))) best = i;
  int active = 0;
  for (size_t i = 0; i < size; ++i) {
    if (timedRounds >= 2 && !t.dropped[i] && cost(i) > kDrop * cost(best)) t.dropped[i] = true;
    active += t.dropped[i] ? 0 : 1;
  }
  if (active == 1 || timedRounds >= kRounds || t.spentUs >= kBudgetUs) {
    t.chosen = static_cast<int>(best);
    return;
  }
  while (t.dropped[t.next]) t.next = (t.next + 1) % size;
}

size_t Request::candidateNow(const Tuning& t) const { return t.chosen >= 0 ? static_cast<size_t>(t.chosen) : t.next; }

Strategy Request::strategy(int64_t n) const {
  auto it = tuning_.find(n);
  return it == tuning_.end() ? Strategy::Layers : it->second.candidates[candidateNow(it->second)];
}

double Request::lastMicros(int64_t n) const {
  auto it = tuning_.find(n);
  return it == tuning_.end() ? -1 : it->second.lastUs;
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
  Tuning& t = tuning(n);
  const size_t c = candidateNow(t);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> times = run(n, t.candidates[c]);
  t.lastUs = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (t.candidates.size() == 1) return times;
  if (t.chosen < 0) advance(t, c);
  else if ((t.sinceUs += t.lastUs, ++t.runs) >= kRetuneRuns && t.sinceUs >= kRetuneUs) restart(t);
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
  runSteps(args_[0], ctx, 0, n, strategy, &times);
  streams_[0]->wait();
}

void Request::runSamples(int64_t n, std::vector<double>& times) {
  const int parts = static_cast<int>(std::min<int64_t>(n, static_cast<int64_t>(args_.size())));
  std::vector<std::exception_ptr> errors(parts);
  const std::function<void(int)> part = [&](int k) {
    const int64_t lo = n * k / parts, hi = n * (k + 1) / parts;
    RunContext ctx;
    ctx.threads = 1;
    ctx.engineStream = streams_[k].get();
    try {
      runSteps(args_[k], ctx, lo, hi - lo, Strategy::Single, k == 0 ? &times : nullptr);
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
