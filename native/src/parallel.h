// When the CPU ops' own loops wake the OpenMP team: below these element counts they run on one
// thread, because waking the team costs more than the work.
#pragma once
#include <cstdint>

namespace dynbatch {

// Loops that compute per element (elementwise maths, interpolation).
constexpr int64_t kParallelMin = 16384;

// Loops that only move elements (slice, transpose, gather, pad, concat/split): less work per
// element, so the team pays off later, at twice kParallelMin.
constexpr int64_t kParallelCopyMin = 2 * kParallelMin;

}  // namespace dynbatch
