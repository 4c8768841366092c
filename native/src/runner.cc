#include "runner.h"

#include <algorithm>

namespace dynbatch {

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

void Runner::dispatch() {
  while (!queue_.empty()) {
    const int need = std::min(queue_.front().first, cores_);
    if (busyThreads_ > 0 && busyThreads_ + need > cores_) return;
    Worker* idle = nullptr;
    for (auto& w : workers_)
      if (!w->busy) {
        idle = w.get();
        break;
      }
    if (!idle) {
      workers_.push_back(std::make_unique<Worker>());
      idle = workers_.back().get();
      idle->thread = std::thread([this, idle] { loop(idle); });
      idle->thread.detach();
    }
    idle->busy = true;
    idle->threads = need;
    idle->job = std::move(queue_.front().second);
    queue_.pop_front();
    busyThreads_ += need;
    idle->wake.notify_one();
  }
}

void Runner::loop(Worker* w) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    w->wake.wait(lock, [w] { return static_cast<bool>(w->job); });
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
