// Which convolution kernels a program uses. oneDNN's first choice on an AVX-512 CPU is not always
// its fastest there: on AMD Zen 4, which runs 512-bit FMAs as two 256-bit halves, its AVX2 kernels
// (8-channel blocks) beat the AVX-512 ones on some networks (face-detection-adas-0001: 13% faster)
// and lose on others (the secondary networks: 5-15% slower). So ConvKernels::Auto measures both.
#pragma once
#include <memory>

#include "program.h"

namespace dynbatch {

// Compiles `spec`. With spec.convKernels == Auto, on a CPU beyond AVX2 and for a program with
// enough convolution work to measure (kMinConvFlops per run), compiles it twice (Native and Avx2 kernels), runs each at the
// maximum batch on the Runner's threads in interleaved rounds, and keeps the faster (Native unless Avx2 is clearly faster);
// elsewhere Auto is Native. The program's spec().convKernels says which was kept.
std::shared_ptr<const Program> compileConvKernels(ProgramSpec spec);

}  // namespace dynbatch
