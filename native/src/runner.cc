#include "runner.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "cpu_affinity.h"

namespace dynbatch {

namespace {

// How long a worker woken ahead of a job polls for it before it sleeps again: longer than a caller
// takes from prepare to submit (writing the inputs of a network the size of face detection).
constexpr auto kWarmSpin = std::chrono::microseconds(200);

// Wakes the calling thread's OpenMP team of `threads` threads (one empty parallel region): its
// threads then spin for the next region (GOMP_SPINCOUNT, set by kernel/plugins/native.ts) instead
// of sleeping.
void openTeam(int threads) {
  keepTeamOffCaller(threads);
#pragma omp parallel num_threads(threads)
  {}
}

}  // namespace

Runner& Runner::instance() {
  // Never destroyed: its threads wait for work until the process exits.
  static Runner* runner = new Runner(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return *runner;
}

Runner::Runner(int cores) : cores_(cores) {}

void Runner::submit(int threads, std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.emplace_back(std::max(1, threads), std::move(job));
  dispatch();
}

void Runner::prewake(int threads, bool team) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int need = std::min(std::max(1, threads), cores_);
  if (!queue_.empty() || !fits(need)) return;
  // The worker dispatch() will give the job to.
  Worker* w = idleWorker();
  if (!w || !w->sleeping) return;
  w->warm = team ? need : -1;
  w->sleeping = false;
  warmUps_.fetch_add(1);
  w->wake.notify_one();
}

bool Runner::fits(int need) const { return busyThreads_ == 0 || busyThreads_ + need <= cores_; }

Runner::Worker* Runner::idleWorker() const {
  for (auto& w : workers_)
    if (!w->busy) return w.get();
  return nullptr;
}

void Runner::dispatch() {
  while (!queue_.empty()) {
    const int need = std::min(queue_.front().first, cores_);
    if (!fits(need)) return;
    Worker* idle = idleWorker();
    if (!idle) {
      workers_.push_back(std::make_unique<Worker>());
      idle = workers_.back().get();
      idle->thread = std::thread([this, idle] { loop(idle); });
      idle->thread.detach();
    }
    idle->busy = true;
    idle->threads = need;
    idle->job = std::move(queue_.front().second);
    idle->hasJob.store(true, std::memory_order_release);
    queue_.pop_front();
    busyThreads_ += need;
    idle->wake.notify_one();
  }
}

void Runner::loop(Worker* w) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    w->sleeping = true;
    w->wake.wait(lock, [w] { return w->job || w->warm != 0; });
    w->sleeping = false;
    if (!w->job) {
      const int warm = w->warm;
      w->warm = 0;
      lock.unlock();
      if (warm > 1) openTeam(warm);
      const auto until = std::chrono::steady_clock::now() + kWarmSpin;
      while (!w->hasJob.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < until) _mm_pause();
      lock.lock();
      continue;
    }
    w->warm = 0;
    w->hasJob.store(false, std::memory_order_relaxed);
    std::function<void()> job = std::move(w->job);
    w->job = nullptr;
    lock.unlock();
    job();  // must not throw: jobs report their own errors
    job = nullptr;
    lock.lock();
    w->busy = false;
    busyThreads_ -= w->threads;
    dispatch();
  }
}

}  // namespace dynbatch
