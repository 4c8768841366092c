// Where inference runs: a small pool of native threads shared by every program of the process.
// oneDNN and our kernels use OpenMP, whose thread team belongs to the calling thread; libuv's
// pool would lend each run whichever of its threads is free, each with its own team, and teams
// left spinning by one run would compete for the cores with the next. Here a job needing t
// threads starts only when t more cores are free (one at a time when programs use every core)
// and always on the lowest idle worker, so a steady stream of runs reuses one warm team.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dynbatch {

class Runner {
 public:
  static Runner& instance();
  // Queues `job` (FIFO); it runs on a pool thread once `threads` cores are free.
  void submit(int threads, std::function<void()> job);
  // A job of `threads` threads is about to be submitted: the worker it will go to, if asleep,
  // wakes now and polls for it (kWarmSpin), and with `team` first opens its OpenMP team of that
  // many threads, so that both wake-ups overlap what the caller does before submitting. Each run
  // after an onnxruntime run, in-process A/B on a loaded host: head pose n = 1 (layers) 1065-1173
  // µs instead of 1115-1233, landmarks n = 16 (samples) 2103-2668 instead of 2173-2902.
  void prewake(int threads, bool team);
  // prewake() calls that found the worker asleep and woke it (for tests).
  uint64_t warmUps() const { return warmUps_.load(); }

 private:
  explicit Runner(int cores);
  struct Worker {
    std::thread thread;
    std::function<void()> job;
    int threads = 0;
    bool busy = false;
    bool sleeping = false;
    int warm = 0;                     // > 0: woken ahead of a job of this many threads (-1: without a team)
    std::atomic<bool> hasJob{false};  // job is set: lets a warmed worker poll without the mutex
    std::condition_variable wake;
  };
  void dispatch();  // with mutex_ held
  // With mutex_ held: whether a job of `need` threads may start now (it waits while others run and
  // it would take more cores than are free), and the lowest idle worker, which the next job goes to.
  bool fits(int need) const;
  Worker* idleWorker() const;
  void loop(Worker* w);

  const int cores_;
  std::mutex mutex_;
  std::deque<std::pair<int, std::function<void()>>> queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
  int busyThreads_ = 0;
  std::atomic<uint64_t> warmUps_{0};
};

}  // namespace dynbatch
