// FMA microbenchmark: per thread, kChains independent accumulators hide the FMA latency so both
// FMA ports stay busy; the sum of the per-thread rates is the machine's FP32 peak.
#include "peak.h"

#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>

#include <chrono>
#include <cmath>
#include <thread>
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

// The widest FMA oneDNN may use: ONEDNN_MAX_CPU_ISA=AVX2 caps the peak as it caps the kernels.
double (*peakChunk())(float*) {
  const unsigned isa = dnnl_get_effective_cpu_isa();
  auto allows = [&](unsigned x) { return (isa & x) == x; };
  if (allows(dnnl_cpu_isa_avx512_core) && __builtin_cpu_supports("avx512f")) return chunkAvx512;
  if (allows(dnnl_cpu_isa_avx2) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return chunkAvx2;
  return chunkSse;
}

double fmaPeak(int threads, double ms) {
  using Clock = std::chrono::steady_clock;
  double (*chunk)(float*) = peakChunk();
  std::vector<double> rate(threads, 0.0);
  std::vector<float> sinks(threads, 0.f);
  // Own threads, not an OpenMP team: a team opened on the JS thread would stay in the process and
  // make libgomp stop spinning in the executor's teams (see sample_team.h).
  auto work = [&](int k) {
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
    rate[k] = flops / std::chrono::duration<double>(now - start).count();
    sinks[k] = local;
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < threads; ++k) pool.emplace_back(work, k);
  work(0);
  for (auto& t : pool) t.join();
  double total = 0, sink = 0;
  for (int k = 0; k < threads; ++k) {
    total += rate[k];
    sink += sinks[k];
  }
  // `sink` is finite for any run; the comparison only keeps it observable.
  return std::isfinite(sink) ? total / 1e9 : 0.0;
}

}  // namespace

Napi::Value CpuIsa(const Napi::CallbackInfo& info) {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return Napi::String::New(info.Env(), "sse41");
    case dnnl_cpu_isa_avx: return Napi::String::New(info.Env(), "avx");
    case dnnl_cpu_isa_avx2: return Napi::String::New(info.Env(), "avx2");
    case dnnl_cpu_isa_avx2_vnni: return Napi::String::New(info.Env(), "avx2_vnni");
    case dnnl_cpu_isa_avx512_core: return Napi::String::New(info.Env(), "avx512_core");
    case dnnl_cpu_isa_avx512_core_vnni: return Napi::String::New(info.Env(), "avx512_core_vnni");
    case dnnl_cpu_isa_avx512_core_bf16: return Napi::String::New(info.Env(), "avx512_core_bf16");
    case dnnl_cpu_isa_avx512_core_amx: return Napi::String::New(info.Env(), "avx512_core_amx");
    default: return Napi::String::New(info.Env(), "other");
  }
}

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
