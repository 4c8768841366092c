// Where inference runs: a small pool of native threads shared by every program of the process.
// oneDNN and our kernels use OpenMP, whose thread team belongs to the calling thread; libuv's
// pool would lend each run whichever of its threads is free, each with its own team, and teams
// left spinning by one run would compete for the cores with the next. Here a job needing t
// threads starts only when t more cores are free (one at a time when programs use every core)
// and always on the lowest idle worker, so a steady stream of runs reuses one warm team.
#pragma once
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

 private:
  explicit Runner(int cores);
  struct Worker {
    std::thread thread;
    std::function<void()> job;
    int threads = 0;
    bool busy = false;
    std::condition_variable wake;
  };
  void dispatch();  // with mutex_ held
  void loop(Worker* w);

  const int cores_;
  std::mutex mutex_;
  std::deque<std::pair<int, std::function<void()>>> queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
  int busyThreads_ = 0;
};

}  // namespace dynbatch
