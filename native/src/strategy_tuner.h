// How a request picks the strategy of its runs at one batch: the candidates are measured in
// interleaved rounds and the one with the fastest median run is kept; while it is kept, each other
// candidate is run now and then (a probe), and one clearly faster than the kept one starts the
// measuring again. The load of a shared machine changes, and a busy moment during the measuring (a
// garbage collection, another process on the second core) can cover all of its few milliseconds on
// a small network: without probes such a choice would stay until the next periodic measuring.
// Pure bookkeeping over the times it is given, so tests can drive it with times of their own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dynbatch {

// How one run spreads over the program's threads:
//   Layers  every step in turn, each on the program's threads (steps estimated to be small on one);
//   Single  every step on one thread: no synchronisation at all, for networks whose layers are too
//           small to split;
//   Samples each thread takes whole samples through the whole program with no barrier between
//           steps (OpenVINO's streams inside one request); needs independent samples and n >= 2.
enum class Strategy : int8_t { Layers, Single, Samples };

const char* strategyName(Strategy s);

// Runs known to take less than this may run on the JS thread (see Request::runsInline).
constexpr double kInlineMicros = 1000;

// Whether a run of `strategy` last timed at `micros` (negative: never) goes through the Runner:
// layer-parallel runs open an OpenMP team, and runs not known to be short keep the event loop free.
bool viaRunner(Strategy strategy, double micros);

class StrategyTuner {
 public:
  // `candidates` is not empty; the first one is kept unless another is clearly faster.
  explicit StrategyTuner(std::vector<Strategy> candidates);
  // The strategy of the next run: the candidate being measured or probed, else the chosen one.
  Strategy next() const;
  // Records the wall time of a run made with next(). handoffUs: what a run through the Runner
  // costs its caller beyond its own time, charged to the candidates that go through it.
  void record(double micros, double handoffUs);
  // True until a choice is made, and again while a choice is measured anew.
  bool measuring() const { return chosen_ < 0; }
  // Wall time of the last run; negative before the first.
  double lastMicros() const { return lastUs_; }

 private:
  // Candidate c's median timed run while measuring (the faster middle one of an even count).
  double typical(size_t c) const;
  double cost(size_t c, double micros, double handoffUs) const;
  // After a run of candidate c while measuring: the next candidate, and at the end of each round
  // the candidates clearly slower than the best drop out or the choice is made.
  void advance(size_t c, double handoffUs);
  void choose(size_t c, double handoffUs);
  void restart();
  // After a run of the chosen candidate: whether it has turned slow, or a probe is due.
  void afterChosen(double micros);
  void afterProbe(size_t c, double micros, double handoffUs);

  std::vector<Strategy> candidates_;
  // While measuring, per candidate: runs so far, its timed runs, whether it is out.
  std::vector<int> count_;
  std::vector<std::vector<double>> timed_;
  std::vector<bool> dropped_;
  size_t next_ = 0;     // the candidate the next measuring run uses
  double spentUs_ = 0;  // time of the timed runs so far
  int chosen_ = -1;
  // Once chosen: the last known cost of each candidate (measured, then its last probe), the
  // fastest run of the chosen one in the current and the previous probe interval, and where the
  // probes stand.
  std::vector<double> known_;
  double chosenUs_ = 0;  // the chosen candidate's median run when it was chosen
  double windowUs_[2] = {0, 0};
  int probe_ = -1;        // the candidate the next run probes; -1 for none
  size_t nextProbe_ = 0;  // the candidate probed next, in turn
  double sinceProbeUs_ = 0;
  int runsSinceProbe_ = 0;
  int slowRuns_ = 0;  // consecutive runs of the chosen one far slower than it measured
  double lastUs_ = -1;
};

}  // namespace dynbatch
