// FP32 peak of this machine, measured with an FMA microbenchmark (kernel/bench reports the
// fraction of it a network reaches).
#pragma once
#include <napi.h>

namespace dynbatch {

// fmaPeakGflops(threads, ms): GFLOP/s of `threads` threads running independent FMA chains for
// about `ms` milliseconds each, with the widest vectors oneDNN may use (AVX-512 when the CPU has it
// and ONEDNN_MAX_CPU_ISA allows it, else AVX2+FMA, else SSE mul+add).
Napi::Value FmaPeakGflops(const Napi::CallbackInfo& info);

// cpuIsa(): the instruction set oneDNN dispatches to here ("avx512_core_bf16", "avx2", ...).
Napi::Value CpuIsa(const Napi::CallbackInfo& info);

}  // namespace dynbatch
