#include "strategy_tuner.h"

#include <algorithm>
#include <climits>
#include <limits>
#include <stdexcept>

namespace dynbatch {

namespace {

// Measuring: rounds over the candidates, one untimed (the first run at a batch builds its
// primitives), then timed ones, interleaved so that a busy moment on a shared machine falls on
// every candidate alike. A candidate is judged by its median timed run (the faster middle one of
// an even count), not by its fastest: while another process takes a core now and then, a
// two-thread strategy's runs split into fast ones (the core was free) and ones 3x slower (its
// barrier waited for the core), and the fastest run hides the slow half that callers mostly get
// (head pose lone runs under load: 3.5-4 ms on two threads against 1.3 ms on one). From the second
// timed round on, candidates slower than kDrop times the best are out (a network whose runs take
// 300 ms should not run on one thread six more times to prove it; one round alone is not enough:
// the first runs after a change of batch are often slow for no fault of the strategy), and the
// measuring stops after kRounds timed rounds or kBudgetUs of timed runs. A margin keeps near-ties
// on the earliest candidate, so two requests of one network (dynamic and static, say) measured at
// different moments still choose alike.
constexpr int kRounds = 6;
constexpr double kDrop = 1.5;
constexpr double kBudgetUs = 200000;
constexpr double kMargin = 0.05;
// Once chosen: measured again at once after kStaleRuns runs in a row each slower than kStale times
// the chosen candidate's measured time (a choice made while another process held a core must not
// cost a 10x slowdown), and whenever a candidate's last two probes both ran faster than the chosen
// one's fastest run of the last two probe intervals by the margin. Runs against the fastest of
// dozens, twice in a row: only a clearly faster candidate wins, so near-ties and one lucky run on a
// loaded machine do not start a measuring (whose rounds include the slow candidates). A probe of candidate c comes once the
// chosen one has run 1 / kProbeShare times c's known cost and kProbeMinRuns runs, so probes cost at most about kProbeShare of the
// run time.
constexpr double kStale = 2.0;
constexpr int kStaleRuns = 8;
constexpr double kProbeShare = 0.02;
constexpr int kProbeMinRuns = 16;

constexpr double kNever = std::numeric_limits<double>::infinity();

}  // namespace

const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::Layers: return "layers";
    case Strategy::Single: return "single";
    case Strategy::Samples: return "samples";
  }
  return "?";
}

bool viaRunner(Strategy strategy, double micros) { return strategy == Strategy::Layers || micros < 0 || micros >= kInlineMicros; }

StrategyTuner::StrategyTuner(std::vector<Strategy> candidates) : candidates_(std::move(candidates)) {
  if (candidates_.empty()) throw std::invalid_argument("StrategyTuner: no candidates");
  restart();
  if (candidates_.size() == 1) chosen_ = 0;
}

Strategy StrategyTuner::next() const {
  if (chosen_ < 0) return candidates_[next_];
  return candidates_[probe_ >= 0 ? probe_ : chosen_];
}

double StrategyTuner::typical(size_t c) const {
  std::vector<double> runs = timed_[c];
  const auto middle = runs.begin() + static_cast<std::ptrdiff_t>((runs.size() - 1) / 2);
  std::nth_element(runs.begin(), middle, runs.end());
  return *middle;
}

double StrategyTuner::cost(size_t c, double micros, double handoffUs) const {
  return micros + (viaRunner(candidates_[c], micros) ? handoffUs : 0);
}

void StrategyTuner::restart() {
  const size_t size = candidates_.size();
  count_.assign(size, 0);
  timed_.assign(size, {});
  dropped_.assign(size, false);
  next_ = 0;
  spentUs_ = 0;
  chosen_ = -1;
  probe_ = -1;
  slowRuns_ = 0;
}

void StrategyTuner::record(double micros, double handoffUs) {
  lastUs_ = micros;
  if (candidates_.size() == 1) return;
  if (chosen_ < 0) return advance(next_, handoffUs);
  if (probe_ >= 0) {
    const size_t c = static_cast<size_t>(probe_);
    probe_ = -1;
    return afterProbe(c, micros, handoffUs);
  }
  afterChosen(micros);
}

void StrategyTuner::advance(size_t c, double handoffUs) {
  const size_t size = candidates_.size();
  if (count_[c]++ > 0) {
    timed_[c].push_back(lastUs_);
    spentUs_ += lastUs_;
  }
  size_t k = c;
  do k = (k + 1) % size;
  while (dropped_[k]);
  next_ = k;
  if (k > c) return;  // the round goes on
  int timedRounds = INT_MAX;
  for (size_t i = 0; i < size; ++i)
    if (!dropped_[i]) timedRounds = std::min(timedRounds, count_[i] - 1);
  if (timedRounds < 1) return;
  size_t best = size;
  for (size_t i = 0; i < size; ++i)
    if (!dropped_[i] && (best == size || cost(i, typical(i), handoffUs) < cost(best, typical(best), handoffUs) * (1 - kMargin)))
      best = i;
  int active = 0;
  for (size_t i = 0; i < size; ++i) {
    if (timedRounds >= 2 && !dropped_[i] && cost(i, typical(i), handoffUs) > kDrop * cost(best, typical(best), handoffUs))
      dropped_[i] = true;
    active += dropped_[i] ? 0 : 1;
  }
  if (active == 1 || timedRounds >= kRounds || spentUs_ >= kBudgetUs) return choose(best, handoffUs);
  while (dropped_[next_]) next_ = (next_ + 1) % size;
}

void StrategyTuner::choose(size_t c, double handoffUs) {
  chosen_ = static_cast<int>(c);
  // Every candidate ran at least one timed round before any choice.
  known_.resize(candidates_.size());
  for (size_t i = 0; i < known_.size(); ++i) known_[i] = cost(i, typical(i), handoffUs);
  chosenUs_ = typical(c);
  windowUs_[0] = chosenUs_;
  windowUs_[1] = kNever;
  nextProbe_ = (c + 1) % candidates_.size();
  sinceProbeUs_ = 0;
  runsSinceProbe_ = 0;
}

void StrategyTuner::afterChosen(double micros) {
  const size_t c = static_cast<size_t>(chosen_);
  slowRuns_ = micros > kStale * chosenUs_ ? slowRuns_ + 1 : 0;
  if (slowRuns_ >= kStaleRuns) return restart();
  windowUs_[1] = std::min(windowUs_[1], micros);
  sinceProbeUs_ += micros;
  if (++runsSinceProbe_ < kProbeMinRuns || sinceProbeUs_ * kProbeShare < known_[nextProbe_]) return;
  probe_ = static_cast<int>(nextProbe_);
  do nextProbe_ = (nextProbe_ + 1) % candidates_.size();
  while (nextProbe_ == c);
  windowUs_[0] = windowUs_[1];
  windowUs_[1] = kNever;
  sinceProbeUs_ = 0;
  runsSinceProbe_ = 0;
}

void StrategyTuner::afterProbe(size_t c, double micros, double handoffUs) {
  const double now = cost(c, micros, handoffUs);
  const double probed = std::max(now, known_[c]);
  known_[c] = now;
  const double chosenUs = std::min(windowUs_[0], windowUs_[1]);
  if (probed < cost(static_cast<size_t>(chosen_), chosenUs, handoffUs) * (1 - kMargin)) restart();
}

}  // namespace dynbatch
