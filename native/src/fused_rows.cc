#include "fused_rows.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "dnnl_common.h"

namespace dynbatch {

PointwiseWeights::PointwiseWeights(const float* wt, const float* b, int64_t cout, int64_t cin)
    : inBlocks((cin + 7) / 8), outBlocks((cout + 7) / 8), w(outBlocks * inBlocks * 64, 0.f), bias(outBlocks * 8, 0.f) {
  for (int64_t o = 0; o < cout; ++o) {
    for (int64_t i = 0; i < cin; ++i) w[((o / 8) * inBlocks * 8 + i) * 8 + o % 8] = wt[o * cin + i];
    if (b) bias[o] = b[o];
  }
}

DepthwiseWeights::DepthwiseWeights(const float* wt, const float* b, int64_t c)
    : blocks((c + 7) / 8), w(blocks * 72, 0.f), bias(blocks * 8, 0.f) {
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int k = 0; k < 9; ++k) w[((ch / 8) * 9 + k) * 8 + ch % 8] = wt[ch * 9 + k];
    if (b) bias[ch] = b[ch];
  }
}

}  // namespace dynbatch

// Lambdas inside the kernels inherit the target only from a pragma, not from an attribute.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace dynbatch::avx2 {
constexpr int kTilePixels = 4;
#include "fused_rows_isa.h"
}  // namespace dynbatch::avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512vl")
namespace dynbatch::avx512 {
constexpr int kTilePixels = 8;
#include "fused_rows_isa.h"
}  // namespace dynbatch::avx512
#pragma GCC pop_options

namespace dynbatch {

namespace {

bool useAvx512() {
  static const bool use = [] {
    const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
    if (cap && std::string(cap).rfind("AVX2", 0) == 0) return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  }();
  return use;
}

}  // namespace

const char* rowKernelIsa() { return useAvx512() ? "avx512" : "avx2"; }

bool sepconvFusionPays() {
  if (const char* env = std::getenv("DYNBATCH_FUSE_SEPCONV")) return std::string(env) == "1";
  const int avx512 = dnnl_cpu_isa_avx512_core;
  return halfWidthFmaPeak() || (static_cast<int>(dnnl::get_effective_cpu_isa()) & avx512) != avx512;
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

}  // namespace dynbatch

namespace dynbatch {

namespace {

// Asks for `floats` floats from each of `blocks` blocks `blockStride` apart, into L2.
void prefetchRow(const float* row, int64_t blocks, int64_t blockStride, int64_t floats) {
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t i = 0; i < floats; i += 16) __builtin_prefetch(row + b * blockStride + i, 0, 2);
}

}  // namespace

int64_t SepChain::scratchFloats() const {
  const int64_t mid = depthW.blocks * 8;
  return (expand ? 3 * mid * width : 0) + (project ? mid * outWidth : 0);
}

void SepChain::rows(const float* in, const float* sum, float* out, int64_t y0, int64_t y1, float* scratch) const {
  const int64_t mid = depthW.blocks * 8;
  float* ring = scratch;
  float* dwRow = scratch + (expand ? 3 * mid * width : 0);
  int64_t held[3] = {-1, -1, -1};  // the input row each ring slot holds
  const int64_t inPlane = height * width * 8, outPlane = outHeight * outWidth * 8;
  for (int64_t y = y0; y < y1; ++y) {
    // The input rows the next output row reads first: the hardware prefetchers do not follow
    // a row spread over many block planes (one short stream per block), and the loads would wait
    // on memory.
    for (int64_t iy = (y + 1) * stride; iy <= (y + 1) * stride + 1 && y + 1 < y1 && iy < height; ++iy) {
      if (iy <= y * stride + 1) continue;
      prefetchRow(in + iy * width * 8, inBlocks(), inPlane, width * 8);
    }
    const float* src[3];
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t iy = y * stride - 1 + ky;
      if (iy < 0 || iy >= height) {
        src[ky] = nullptr;
      } else if (!expand) {
        src[ky] = in + iy * width * 8;
      } else {
        float* slot = ring + (iy % 3) * mid * width;
        if (held[iy % 3] != iy) {
          pointwiseRow(in + iy * width * 8, inPlane, width, expandW, expandClamp, nullptr, slot, width * 8);
          held[iy % 3] = iy;
        }
        src[ky] = slot;
      }
    }
    const int64_t srcStride = expand ? width * 8 : inPlane;
    if (project) {
      depthwiseRow(src, srcStride, width, stride, outWidth, depthW, depthClamp, dwRow, outWidth * 8);
      pointwiseRow(dwRow, outWidth * 8, outWidth, projectW, projectClamp, sum ? sum + y * outWidth * 8 : nullptr,
                   out + y * outWidth * 8, outPlane);
    } else {
      depthwiseRow(src, srcStride, width, stride, outWidth, depthW, depthClamp, out + y * outWidth * 8, outPlane);
    }
  }
}

void SepChain::run(const float* in, const float* sum, float* out, int64_t n, int threads) const {
  const int64_t stripes = std::min<int64_t>(outHeight, std::max<int64_t>(1, (threads + n - 1) / n));
  const int64_t items = n * stripes;
  const int64_t inSample = inBlocks() * height * width * 8, outSample = outBlocks() * outHeight * outWidth * 8;
  const size_t scratch = static_cast<size_t>(scratchFloats()) * sizeof(float);
  // Each thread a contiguous range of (sample, stripe) items: neighbouring stripes of one thread
  // share no ring, but a thread's whole samples need no recomputed rows at all.
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
#pragma omp parallel num_threads(threads)
  part(omp_get_thread_num(), omp_get_num_threads());
}

}  // namespace dynbatch
