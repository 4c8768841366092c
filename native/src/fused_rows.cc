#include "fused_rows.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>

#include "dnnl_common.h"
#include "shared_constants.h"

namespace dynbatch {

PointwiseWeights::PointwiseWeights(const float* wt, const float* b, int64_t cout, int64_t cin)
    : inBlocks((cin + 7) / 8), outBlocks((cout + 7) / 8) {
  std::vector<float> packed(outBlocks * inBlocks * 64, 0.f), biases(outBlocks * 8, 0.f);
  for (int64_t o = 0; o < cout; ++o) {
    for (int64_t i = 0; i < cin; ++i) packed[((o / 8) * inBlocks * 8 + i) * 8 + o % 8] = wt[o * cin + i];
    if (b) biases[o] = b[o];
  }
  w = sharedFloats(std::move(packed));
  bias = sharedFloats(std::move(biases));
}

DepthwiseWeights::DepthwiseWeights(const float* wt, const float* b, int64_t c) : blocks((c + 7) / 8) {
  std::vector<float> packed(blocks * 72, 0.f), biases(blocks * 8, 0.f);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int k = 0; k < 9; ++k) packed[((ch / 8) * 9 + k) * 8 + ch % 8] = wt[ch * 9 + k];
    if (b) biases[ch] = b[ch];
  }
  w = sharedFloats(std::move(packed));
  bias = sharedFloats(std::move(biases));
}

}  // namespace dynbatch

// Lambdas inside the kernels inherit the target only from a pragma, not from an attribute.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace dynbatch::avx2 {
constexpr int kTilePixels = 6, kTileBlocks = 2, kDepthPixels = 4;
#include "fused_rows_isa.h"
}  // namespace dynbatch::avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512vl")
namespace dynbatch::avx512 {
constexpr int kTilePixels = 8, kTileBlocks = 3, kDepthPixels = 8;
#include "fused_rows_isa.h"
}  // namespace dynbatch::avx512
#pragma GCC pop_options

namespace dynbatch {

namespace {

// Whether oneDNN dispatches to `isa` or above (ISA values are sets of feature bits): its cap
// ONEDNN_MAX_CPU_ISA then holds for these kernels too, so one machine can test every path.
bool dispatchesTo(dnnl_cpu_isa_t isa) {
  return (static_cast<int>(dnnl::get_effective_cpu_isa()) & static_cast<int>(isa)) == static_cast<int>(isa);
}

bool useAvx512() {
  static const bool use = dispatchesTo(dnnl_cpu_isa_avx512_core) && __builtin_cpu_supports("avx512vl");
  return use;
}

}  // namespace

const char* rowKernelIsa() { return useAvx512() ? "avx512" : "avx2"; }

bool rowKernelsRun() {
  static const bool run = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && dispatchesTo(dnnl_cpu_isa_avx2);
  return run;
}

bool sepconvFusionPays() {
  if (!rowKernelsRun()) return false;
  if (const char* env = std::getenv("DYNBATCH_FUSE_SEPCONV")) return std::string(env) == "1";
  return halfWidthFmaPeak() || !dispatchesTo(dnnl_cpu_isa_avx512_core);
}

void pointwiseRow(const float* in, int64_t inBlockStride, int64_t width, const PointwiseWeights& p, Clamp clamp, const float* sum,
                  float* out, int64_t outBlockStride) {
  if (useAvx512()) avx512::pointwiseRow(in, inBlockStride, width, p, clamp, sum, out, outBlockStride);
  else avx2::pointwiseRow(in, inBlockStride, width, p, clamp, sum, out, outBlockStride);
}

void depthwiseRow(const float* const rows[3], int64_t inBlockStride, int64_t width, int stride, int64_t outWidth,
                  const DepthwiseWeights& d, Clamp clamp, float* out, int64_t outBlockStride) {
  if (useAvx512()) avx512::depthwiseRow(rows, inBlockStride, width, stride, outWidth, d, clamp, out, outBlockStride);
  else avx2::depthwiseRow(rows, inBlockStride, width, stride, outWidth, d, clamp, out, outBlockStride);
}

namespace {

// Asks for `floats` floats from each of `blocks` blocks `blockStride` apart, into L2.
void prefetchRow(const float* row, int64_t blocks, int64_t blockStride, int64_t floats) {
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t i = 0; i < floats; i += 16) __builtin_prefetch(row + b * blockStride + i, 0, 2);
}

}  // namespace

int64_t SepChain::groupRows() const {
  return std::min<int64_t>(outHeight, std::max<int64_t>(1, (kGroupPixels + outWidth - 1) / outWidth));
}

int64_t SepChain::scratchFloats() const {
  const int64_t mid = depthW.blocks * 8, k = groupRows();
  return (expand ? (k * stride + 2) * mid * width : 0) + (project ? k * mid * outWidth : 0);
}

void SepChain::rows(const float* in, const float* sum, float* out, int64_t y0, int64_t y1, float* scratch) const {
  const int64_t mid = depthW.blocks * 8, k = groupRows();
  const int64_t window = k * stride + 2;                          // expanded rows one group of output rows reads
  float* expanded = scratch;                                      // [blocks][window][width][8], row r is input row lo + r
  float* dwRows = scratch + (expand ? window * mid * width : 0);  // [blocks][k][outWidth][8]
  const int64_t inPlane = height * width * 8, outPlane = outHeight * outWidth * 8, rowFloats = width * 8;
  const int64_t expandedPlane = window * rowFloats;
  int64_t heldHi = -1;  // the last input row expanded
  for (int64_t g0 = y0; g0 < y1; g0 += k) {
    const int64_t g1 = std::min(g0 + k, y1);
    const int64_t lo = g0 * stride - 1, hi = (g1 - 1) * stride + 1;  // input rows the group reads
    // The input rows the next group reads first: the hardware prefetchers do not follow a row
    // spread over many block planes (one short stream per block), and the loads would wait on
    // memory.
    for (int64_t iy = hi + 1; iy <= std::min((g1 + k - 1) * stride + 1, height - 1) && g1 < y1; ++iy)
      prefetchRow(in + iy * rowFloats, inBlocks(), inPlane, rowFloats);
    if (expand) {
      // Rows the group before expanded are still in the ring (it holds `window` rows, more than a
      // group reads); the rest are expanded in one pass over their pixels, or two where they wrap
      // around the ring's end (a block's rows are contiguous in the input and in the ring).
      const int64_t to = std::min(hi, height - 1);
      for (int64_t r = std::max({lo, heldHi + 1, int64_t{0}}); r <= to;) {
        const int64_t at = r % window, run = std::min(to - r + 1, window - at);
        pointwiseRow(in + r * rowFloats, inPlane, run * width, expandW, expandClamp, nullptr, expanded + at * rowFloats,
                     expandedPlane);
        r += run;
      }
      heldHi = std::max(heldHi, to);
    }
    for (int64_t y = g0; y < g1; ++y) {
      const float* src[3];
      for (int ky = 0; ky < 3; ++ky) {
        const int64_t iy = y * stride - 1 + ky;
        src[ky] = iy < 0 || iy >= height ? nullptr : expand ? expanded + (iy % window) * rowFloats : in + iy * rowFloats;
      }
      const int64_t srcStride = expand ? expandedPlane : inPlane;
      if (project)
        depthwiseRow(src, srcStride, width, stride, outWidth, depthW, depthClamp, dwRows + (y - g0) * outWidth * 8,
                     k * outWidth * 8);
      else depthwiseRow(src, srcStride, width, stride, outWidth, depthW, depthClamp, out + y * outWidth * 8, outPlane);
    }
    // The group's rows are contiguous in each block of the output too: one 1x1 over all of them.
    if (project)
      pointwiseRow(dwRows, k * outWidth * 8, (g1 - g0) * outWidth, projectW, projectClamp,
                   sum ? sum + g0 * outWidth * 8 : nullptr, out + g0 * outWidth * 8, outPlane);
  }
}

void SepChain::run(const float* in, const float* sum, float* out, int64_t n, int threads) const {
  const int64_t stripes = std::min<int64_t>(outHeight, std::max<int64_t>(1, (threads + n - 1) / n));
  const int64_t items = n * stripes;
  const int64_t inSample = inBlocks() * height * width * 8, outSample = outBlocks() * outHeight * outWidth * 8;
  const size_t scratch = static_cast<size_t>(scratchFloats()) * sizeof(float);
  // Each thread a contiguous range of (sample, stripe) items: a stripe recomputes the expanded
  // rows at its edges, a thread's whole samples none.
  auto part = [&](int t, int team) {
    float* buffer = static_cast<float*>(threadBuffer(kScratchSlot, scratch));
    for (int64_t i = items * t / team; i < items * (t + 1) / team; ++i) {
      const int64_t s = i / stripes, k = i % stripes;
      rows(in + s * inSample, sum ? sum + s * outSample : nullptr, out + s * outSample, outHeight * k / stripes,
           outHeight * (k + 1) / stripes, buffer);
    }
  };
  if (threads <= 1) {
    part(0, 1);
    return;
  }
  // An exception leaving an OpenMP region terminates the process: a thread's failed buffer
  // allocation is carried out of it and thrown from here.
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  try {
    part(omp_get_thread_num(), omp_get_num_threads());
  } catch (...) {
#pragma omp critical(sepchain_error)
    error = std::current_exception();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace dynbatch
