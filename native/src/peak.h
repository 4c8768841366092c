// FP32 peak of this machine, measured with an FMA microbenchmark (kernel/bench reports the
// fraction of it a network reaches).
#pragma once
#include <napi.h>

namespace dynbatch {

// fmaPeakGflops(threads, ms): GFLOP/s of `threads` OpenMP threads running independent FMA chains
// for about `ms` milliseconds each (AVX-512 when the CPU has it, else AVX2+FMA, else SSE mul+add).
Napi::Value FmaPeakGflops(const Napi::CallbackInfo& info);

}  // namespace dynbatch
