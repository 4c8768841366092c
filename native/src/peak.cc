// FMA microbenchmark: per thread, kChains independent accumulators hide the FMA latency so both
// FMA ports stay busy; the sum of the per-thread rates is the machine's FP32 peak.
#include "peak.h"

#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <vector>

namespace dynbatch {
namespace {

// 12 chains × latency 4–5 cycles covers 2 ports; 12 accumulators + 2 operands fit in 16 registers.
constexpr int kChains = 12;
constexpr long kIters = 1 << 16;  // one timed chunk: ~0.8M FMAs, well under a millisecond

// Each kernel runs kIters·kChains FMAs and returns the FLOPs done (2 per lane per FMA); `sink`
// keeps the results live so the compiler cannot drop the loop.
__attribute__((target("avx512f"))) double chunkAvx512(float* sink) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(1.0f + c * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < kIters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  for (float v : lanes) *sink += v;
  return 2.0 * 16 * kChains * kIters;
}

__attribute__((target("avx2,fma"))) double chunkAvx2(float* sink) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(1.0f + c * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < kIters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  for (float v : lanes) *sink += v;
  return 2.0 * 8 * kChains * kIters;
}

// Without FMA the peak is a mul and an add per cycle.
double chunkSse(float* sink) {
  __m128 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm_set1_ps(1.0f + c * 1e-3f);
  const __m128 a = _mm_set1_ps(0.9999999f), b = _mm_set1_ps(1e-7f);
  for (long i = 0; i < kIters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], a), b);
  }
  __m128 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm_add_ps(s, acc[c]);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, s);
  for (float v : lanes) *sink += v;
  return 2.0 * 4 * kChains * kIters;
}

double fmaPeak(int threads, double ms) {
  using Clock = std::chrono::steady_clock;
  double (*chunk)(float*) = chunkSse;
  if (__builtin_cpu_supports("avx512f")) chunk = chunkAvx512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) chunk = chunkAvx2;
  std::vector<double> rate(threads, 0.0);
  float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
    float local = 0;
    // A short untimed run first lets the core reach its vector clock.
    for (auto until = Clock::now() + std::chrono::duration<double, std::milli>(ms / 4); Clock::now() < until;) chunk(&local);
    double flops = 0;
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double, std::milli>(ms);
    Clock::time_point now;
    do {
      flops += chunk(&local);
      now = Clock::now();
    } while (now < until);
    rate[omp_get_thread_num()] = flops / std::chrono::duration<double>(now - start).count();
    sink += local;
  }
  double total = 0;
  for (double r : rate) total += r;
  // `sink` is finite for any run; the comparison only keeps it observable.
  return std::isfinite(sink) ? total / 1e9 : 0.0;
}

}  // namespace

Napi::Value FmaPeakGflops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "fmaPeakGflops(threads, ms): two numbers expected");
  int threads = info[0].As<Napi::Number>().Int32Value();
  double ms = info[1].As<Napi::Number>().DoubleValue();
  if (threads < 1 || threads > 1024 || !(ms > 0 && ms <= 60000))
    throw Napi::RangeError::New(env, "fmaPeakGflops: threads must be 1..1024 and ms in (0, 60000]");
  return Napi::Number::New(env, fmaPeak(threads, ms));
}

}  // namespace dynbatch
