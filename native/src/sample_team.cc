#include "sample_team.h"

#include <immintrin.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <chrono>

#include "cpu_affinity.h"

namespace dynbatch {

namespace {

// How long a helper polls for the next run before it sleeps: longer than the JS side takes to
// start the next request, short enough not to hold a core that something else wants.
constexpr auto kSpin = std::chrono::microseconds(50);

}  // namespace

SampleTeam& SampleTeam::instance() {
  // Never destroyed: helpers wait for work until the process exits.
  static SampleTeam* team = new SampleTeam();
  return *team;
}

void SampleTeam::grow(int helpers) {
  while (static_cast<int>(threads_.size()) < helpers) {
    const int index = static_cast<int>(threads_.size()) + 1;
    threads_.emplace_back([this, index] { loop(index); });
    handles_.push_back(threads_.back().native_handle());
    threads_.back().detach();
    keptOff_ = -1;
  }
}

bool SampleTeam::run(int parts, const std::function<void(int)>& fn) {
  std::unique_lock<std::mutex> hold(busy_, std::try_to_lock);
  if (!hold.owns_lock()) return false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    grow(parts - 1);
    job_ = &fn;
    parts_.store(parts);
    done_.store(0);
    open_.store(parts - 1);
    sleeping_.store(0);
    generation_.fetch_add(1, std::memory_order_release);
  }
  keepOff(sched_getcpu());
  wake_.notify_all();
  fn(0);
  // Places still open are closed: their helpers skip this run. The others ran or are running fn.
  const int started = parts - 1 - std::max(0, open_.exchange(0));
  while (done_.load(std::memory_order_acquire) < started) _mm_pause();
  return true;
}

void SampleTeam::prewake() {
  if (sleeping_.load() == 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (sleeping_.exchange(0) == 0) return;
    nudges_.fetch_add(1);
  }
  wake_.notify_all();
}

void SampleTeam::keepOff(int cpu) {
  cpu_set_t others;
  if (cpu == keptOff_ || !cpusOtherThan(cpu, &others)) return;
  for (pthread_t h : handles_) pthread_setaffinity_np(h, sizeof(others), &others);
  keptOff_ = cpu;
}

SampleTeam::State SampleTeam::state() {
  std::unique_lock<std::mutex> hold(busy_);
  State st;
  st.keptOff = keptOff_;
  st.prewakes = nudges_.load();
  cpu_set_t set;
  if (handles_.empty() || pthread_getaffinity_np(handles_[0], sizeof(set), &set) != 0) return st;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) st.helperCpus.push_back(c);
  return st;
}

void SampleTeam::loop(int index) {
  // oneDNN and own kernels run serially on this thread: it never opens an OpenMP team.
  omp_set_num_threads(1);
  uint64_t seen = 0;
  for (;;) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) _mm_pause();
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      const uint64_t nudged = nudges_.load();
      sleeping_.fetch_add(1);  // the waker (run or prewake) counts it awake again
      wake_.wait(lock, [&] { return generation_.load() != seen || nudges_.load() != nudged; });
      if (generation_.load() == seen) continue;  // woken ahead of a run: spin for it
    }
    seen = generation_.load(std::memory_order_acquire);
    // A place taken keeps the run (and job_) from ending until done_ counts this helper.
    if (index < parts_.load() && open_.fetch_sub(1) > 0) {
      (*job_)(index);
      done_.fetch_add(1, std::memory_order_release);
    }
  }
}

}  // namespace dynbatch
