#include "conv_kernels.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>

#include "runner.h"

namespace dynbatch {

namespace {

constexpr int kTimedRounds = 5;
// Below this much convolution work per run (~1 ms at these machines' FP32 peak) the two kernel
// families differ by microseconds, which a measurement on a shared machine cannot tell apart: a
// coin-toss choice would only make two loads of one model compute in different orders.
constexpr double kMinConvFlops = 2e8;
// Avx2 is kept only when its fastest run beats Native's by this factor: within it the two are a
// tie, and the machine's own first choice is the one its vendor tuned.
constexpr double kClearlyFaster = 0.95;

bool beyondAvx2() { return dnnl_get_effective_cpu_isa() > dnnl_cpu_isa_avx2; }

double convFlops(const Program& program) {
  double flops = 0;
  for (const Step& s : program.steps())
    if (s.type == "conv") flops += s.op->flops(program.spec().maxBatch);
  return flops;
}

// One run at the maximum batch, on a Runner thread (an OpenMP team opened on the JS thread would
// make libgomp stop spinning for every later team, see sample_team.h); µs of wall time.
double timedRun(Request& request, int64_t n, int threads) {
  std::promise<double> done;
  auto result = done.get_future();
  Runner::instance().submit(threads, [&] {
    try {
      const auto t0 = std::chrono::steady_clock::now();
      request.run(n, Strategy::Layers);
      done.set_value(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  return result.get();
}

}  // namespace

std::shared_ptr<const Program> compileConvKernels(ProgramSpec spec) {
  if (spec.convKernels != ConvKernels::Auto) return std::make_shared<const Program>(std::move(spec));
  spec.convKernels = ConvKernels::Native;
  if (!beyondAvx2()) return std::make_shared<const Program>(std::move(spec));
  auto native = std::make_shared<const Program>(std::move(spec));
  if (convFlops(*native) < kMinConvFlops) return native;
  ProgramSpec avx2Spec = native->spec();
  avx2Spec.convKernels = ConvKernels::Avx2;
  auto avx2 = std::make_shared<const Program>(std::move(avx2Spec));
  Request nativeRun(native), avx2Run(avx2);
  const int64_t n = native->spec().maxBatch;
  const int threads = native->spec().threads;
  // The first run at a batch builds its primitives: untimed.
  timedRun(nativeRun, n, threads);
  timedRun(avx2Run, n, threads);
  double bestNative = std::numeric_limits<double>::infinity(), bestAvx2 = bestNative;
  for (int round = 0; round < kTimedRounds; ++round) {
    bestNative = std::min(bestNative, timedRun(nativeRun, n, threads));
    bestAvx2 = std::min(bestAvx2, timedRun(avx2Run, n, threads));
  }
  return bestAvx2 < kClearlyFaster * bestNative ? avx2 : native;
}

}  // namespace dynbatch
