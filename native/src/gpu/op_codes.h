// The codes that select what a generic OpenCL kernel computes: `op` of unary, binary and reduce,
// `mode` of pad. Each list is written once, here: the host ops pass these enums, and the kernel
// source is compiled with the same names as #defines (kernelCodeDefines(), prepended by
// DeviceContext::program), so the numbers on the two sides cannot drift apart.
#pragma once
#include <string>

#include "gpu/cl_common.h"

// clang-format off
#define DYNBATCH_GPU_UNARY_CODES(X) \
  X(UNARY_RELU) X(UNARY_LEAKYRELU) X(UNARY_SIGMOID) X(UNARY_TANH) X(UNARY_EXP) X(UNARY_LOG) X(UNARY_ABS) \
  X(UNARY_SQRT) X(UNARY_NEG) X(UNARY_ELU) X(UNARY_CLAMP) X(UNARY_HSWISH) X(UNARY_HSIGMOID) \
  X(UNARY_HARDSIGMOID) X(UNARY_SWISH) X(UNARY_GELU) X(UNARY_GELU_TANH) X(UNARY_SOFTPLUS) X(UNARY_MISH) \
  X(UNARY_FLOOR) X(UNARY_CEIL) X(UNARY_ERF)
#define DYNBATCH_GPU_BINARY_CODES(X) \
  X(BINARY_ADD) X(BINARY_SUB) X(BINARY_MUL) X(BINARY_DIV) X(BINARY_MAX) X(BINARY_MIN) X(BINARY_POW) \
  X(BINARY_SQDIFF) X(BINARY_PRELU)
#define DYNBATCH_GPU_REDUCE_CODES(X) \
  X(REDUCE_SUM) X(REDUCE_MEAN) X(REDUCE_MAX) X(REDUCE_MIN) X(REDUCE_PROD) X(REDUCE_L1) X(REDUCE_L2) \
  X(REDUCE_SUMSQUARE) X(REDUCE_LOGSUMEXP)
#define DYNBATCH_GPU_PAD_CODES(X) \
  X(PAD_CONSTANT) X(PAD_EDGE) X(PAD_REFLECT) X(PAD_SYMMETRIC)
// clang-format on

namespace dynbatch {
namespace gpu {

#define DYNBATCH_GPU_ENUMERATOR(name) name,
enum UnaryCode : cl_int { DYNBATCH_GPU_UNARY_CODES(DYNBATCH_GPU_ENUMERATOR) };
enum BinaryCode : cl_int { DYNBATCH_GPU_BINARY_CODES(DYNBATCH_GPU_ENUMERATOR) };
enum ReduceCode : cl_int { DYNBATCH_GPU_REDUCE_CODES(DYNBATCH_GPU_ENUMERATOR) };
enum PadCode : cl_int { DYNBATCH_GPU_PAD_CODES(DYNBATCH_GPU_ENUMERATOR) };
#undef DYNBATCH_GPU_ENUMERATOR

// "#define UNARY_RELU 0\n..." for every code above: the kernel source's view of the same lists.
inline std::string kernelCodeDefines() {
  std::string s;
#define DYNBATCH_GPU_DEFINE(name) s += "#define " #name " " + std::to_string(static_cast<int>(name)) + "\n";
  DYNBATCH_GPU_UNARY_CODES(DYNBATCH_GPU_DEFINE)
  DYNBATCH_GPU_BINARY_CODES(DYNBATCH_GPU_DEFINE)
  DYNBATCH_GPU_REDUCE_CODES(DYNBATCH_GPU_DEFINE)
  DYNBATCH_GPU_PAD_CODES(DYNBATCH_GPU_DEFINE)
#undef DYNBATCH_GPU_DEFINE
  return s;
}

}  // namespace gpu
}  // namespace dynbatch
