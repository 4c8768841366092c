// Threads that split one run by samples (Strategy::Samples). Own threads rather than an OpenMP
// team: libgomp gives every thread that opens a parallel region a pool of its own, and once a
// process holds more pool threads than cores it stops spinning altogether, so every parallel
// region pays a futex wake-up (tens of µs on a virtual machine). Only the Runner's worker opens
// OpenMP regions; runs on the JS thread and these helpers call oneDNN with one thread each.
// Helpers spin briefly after each run, so back-to-back requests find them awake, then sleep.
// Helpers are kept off the CPU the caller runs on (cpu_affinity.h): one placed on the caller's CPU
// waits behind the caller's own share of the run, which by then has taken the helper's share too
// (eye at n = 8, each run after an onnxruntime run, four A/B runs: the helper joined 69-81% of
// runs instead of 65-76%, p50 175-178 µs instead of 180-219).
#pragma once
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dynbatch {

class SampleTeam {
 public:
  static SampleTeam& instance();
  // Runs fn(0) on the calling thread and fn(1) .. fn(parts - 1) on helpers at once; returns when
  // all that started are done. A helper that has not started by the time fn(0) returns is not
  // waited for and does not run fn: every fn must take its work from a share of the run the
  // threads claim in turn, so that fn(0) alone does all that no helper came for. A helper asleep
  // takes tens of µs to wake on a virtual machine, and far longer while another process holds its
  // core. False (nothing run) when another run holds the team. fn must not throw.
  bool run(int parts, const std::function<void(int)>& fn);
  // Wakes the helpers that sleep, to spin for a run about to start (kSpin), so that their wake-up
  // overlaps what the caller does before the run (writing its inputs) instead of delaying the run.
  // Each run right after an onnxruntime run, in-process A/B over two runs: eye n = 8 124-133 µs
  // instead of 146, n = 16 225-273 instead of 247-287, landmarks n = 8 837-940 instead of 875-986.
  void prewake();
  // For tests: the CPUs the helpers may run on, the one they are kept off (-1: none yet), and how
  // many prewake() calls found a helper asleep.
  struct State {
    std::vector<int> helperCpus;
    int keptOff = -1;
    uint64_t prewakes = 0;
  };
  State state();

 private:
  SampleTeam() = default;
  void grow(int helpers);
  // Restricts the helpers to the process's CPUs other than `cpu` (where there are others).
  void keepOff(int cpu);
  void loop(int index);

  std::mutex busy_;  // held by the run using the team
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
  std::vector<pthread_t> handles_;
  int keptOff_ = -1;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> parts_{0};
  std::atomic<int> open_{0};         // helper places of the current run not yet taken; <= 0 once closed
  std::atomic<int> done_{0};         // helpers of the current run that have finished fn
  std::atomic<int> sleeping_{0};     // helpers gone to sleep since the last wake-up (changed under mutex_)
  std::atomic<uint64_t> nudges_{0};  // prewake() calls that found a helper asleep
};

}  // namespace dynbatch
