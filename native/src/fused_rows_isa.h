// The row kernels of fused_rows.cc, compiled twice there under different `#pragma GCC target`s
// (AVX2 + FMA with 16 vector registers; AVX-512VL with 32): included inside a namespace per ISA,
// with kTilePixels and kTileBlocks (pixels and output blocks of a 1x1's register tile) and
// kDepthPixels (a depthwise's: its 9 weights stay in registers too) defined before. No include guard on purpose.

// P pixels x OB output blocks of accumulators, plus OB weight vectors of one input channel and a
// broadcast pixel value: 6 x 2 leaves one of AVX2's 16 registers spare (4 x 3 filled all 16 and
// GCC spilled: 77-81 instead of 103-112 GFLOP/s per core at K = 16-24), 8 x 3 uses 28 of
// AVX-512VL's 32.
template <int P, int OB>
inline void pointwiseTile(const float* in, int64_t inBlockStride, int64_t inBlocks, const float* w, int64_t wBlockStride,
                          const float* bias, __m256 lo, __m256 hi, const float* sum, float* out, int64_t outBlockStride) {
  __m256 acc[P][OB];
#pragma GCC unroll 4
  for (int j = 0; j < OB; ++j) {
    const __m256 b = _mm256_loadu_ps(bias + j * 8);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) acc[p][j] = b;
  }
  for (int64_t kb = 0; kb < inBlocks; ++kb) {
    const float* ip = in + kb * inBlockStride;
    const float* wp = w + kb * 64;
    // Unrolled, so that GCC keeps the accumulators in registers instead of storing them each step.
#pragma GCC unroll 8
    for (int kk = 0; kk < 8; ++kk) {
      __m256 wv[OB];
#pragma GCC unroll 4
      for (int j = 0; j < OB; ++j) wv[j] = _mm256_loadu_ps(wp + j * wBlockStride + kk * 8);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        const __m256 x = _mm256_broadcast_ss(ip + p * 8 + kk);
#pragma GCC unroll 4
        for (int j = 0; j < OB; ++j) acc[p][j] = _mm256_fmadd_ps(x, wv[j], acc[p][j]);
      }
    }
  }
  if (sum)
#pragma GCC unroll 4
    for (int j = 0; j < OB; ++j)
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) acc[p][j] = _mm256_add_ps(acc[p][j], _mm256_loadu_ps(sum + j * outBlockStride + p * 8));
#pragma GCC unroll 4
  for (int j = 0; j < OB; ++j)
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p)
      _mm256_storeu_ps(out + j * outBlockStride + p * 8, _mm256_min_ps(_mm256_max_ps(acc[p][j], lo), hi));
}

// The last `rest` (< P) pixels of a row, in one narrower tile.
template <int P, int OB>
inline void pointwiseTail(int64_t rest, const float* in, int64_t inBlockStride, int64_t inBlocks, const float* w,
                          int64_t wBlockStride, const float* bias, __m256 lo, __m256 hi, const float* sum, float* out,
                          int64_t outBlockStride) {
  if constexpr (P > 1) {
    if (rest == P - 1)
      pointwiseTile<P - 1, OB>(in, inBlockStride, inBlocks, w, wBlockStride, bias, lo, hi, sum, out, outBlockStride);
    else pointwiseTail<P - 1, OB>(rest, in, inBlockStride, inBlocks, w, wBlockStride, bias, lo, hi, sum, out, outBlockStride);
  }
}

template <int OB>
void pointwiseBlocks(const float* in, int64_t inBlockStride, int64_t width, const PointwiseWeights& pw, int64_t ob, __m256 lo,
                     __m256 hi, const float* sum, float* out, int64_t outBlockStride) {
  const int64_t wStride = pw.inBlocks * 64;
  const float* w = pw.w->data() + ob * wStride;
  const float* b = pw.bias->data() + ob * 8;
  float* o = out + ob * outBlockStride;
  const float* r = sum ? sum + ob * outBlockStride : nullptr;
  int64_t x = 0;
  for (; x + kTilePixels <= width; x += kTilePixels)
    pointwiseTile<kTilePixels, OB>(in + x * 8, inBlockStride, pw.inBlocks, w, wStride, b, lo, hi, r ? r + x * 8 : nullptr,
                                   o + x * 8, outBlockStride);
  if (x < width)
    pointwiseTail<kTilePixels, OB>(width - x, in + x * 8, inBlockStride, pw.inBlocks, w, wStride, b, lo, hi,
                                   r ? r + x * 8 : nullptr, o + x * 8, outBlockStride);
}

void pointwiseRow(const float* in, int64_t inBlockStride, int64_t width, const PointwiseWeights& p, Clamp clamp, const float* sum,
                  float* out, int64_t outBlockStride) {
  const __m256 lo = _mm256_set1_ps(clamp.lo), hi = _mm256_set1_ps(clamp.hi);
  int64_t ob = 0;
  for (; ob + kTileBlocks <= p.outBlocks; ob += kTileBlocks)
    pointwiseBlocks<kTileBlocks>(in, inBlockStride, width, p, ob, lo, hi, sum, out, outBlockStride);
  if (p.outBlocks - ob == 2) pointwiseBlocks<2>(in, inBlockStride, width, p, ob, lo, hi, sum, out, outBlockStride);
  if (p.outBlocks - ob == 1) pointwiseBlocks<1>(in, inBlockStride, width, p, ob, lo, hi, sum, out, outBlockStride);
}

// One output pixel of a depthwise 3x3 for one block; Checked: columns outside [0, width) are
// padding (only the row's ends need the check).
template <bool Checked>
inline __m256 depthwisePixel(const float* const base[3], int64_t ix0, int64_t width, const __m256 wv[9], __m256 acc) {
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    if (!base[ky]) continue;
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) {
      const int64_t ix = ix0 + kx;
      if (Checked && (ix < 0 || ix >= width)) continue;
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(base[ky] + ix * 8), wv[ky * 3 + kx], acc);
    }
  }
  return acc;
}

// P neighbouring output pixels of one block, all of whose input columns lie inside the row: each
// input vector is loaded once and used by every output it falls under (3 of them at stride 1),
// so the FMAs rather than the loads set the pace.
template <int P, int S>
inline void depthwiseTile(const float* const base[3], int64_t ix0, const __m256 wv[9], __m256 bias, __m256 lo, __m256 hi,
                          float* out) {
  __m256 acc[P];
#pragma GCC unroll 8
  for (int o = 0; o < P; ++o) acc[o] = bias;
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    if (!base[ky]) continue;
    const float* row = base[ky] + ix0 * 8;
#pragma GCC unroll 17
    for (int c = 0; c < (P - 1) * S + 3; ++c) {
      const __m256 v = _mm256_loadu_ps(row + c * 8);
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const int o = (c - kx) / S;
        if (c >= kx && (c - kx) % S == 0 && o < P) acc[o] = _mm256_fmadd_ps(v, wv[ky * 3 + kx], acc[o]);
      }
    }
  }
#pragma GCC unroll 8
  for (int o = 0; o < P; ++o) _mm256_storeu_ps(out + o * 8, _mm256_min_ps(_mm256_max_ps(acc[o], lo), hi));
}

void depthwiseRow(const float* const rows[3], int64_t inBlockStride, int64_t width, int stride, int64_t outWidth,
                  const DepthwiseWeights& d, Clamp clamp, float* out, int64_t outBlockStride) {
  const __m256 lo = _mm256_set1_ps(clamp.lo), hi = _mm256_set1_ps(clamp.hi);
  // Output columns whose three input columns all lie inside the row: [1, last].
  const int64_t last = std::min<int64_t>(outWidth - 1, (width - 2) / stride);
  for (int64_t b = 0; b < d.blocks; ++b) {
    __m256 wv[9];
    for (int k = 0; k < 9; ++k) wv[k] = _mm256_loadu_ps(d.w->data() + (b * 9 + k) * 8);
    const __m256 bias = _mm256_loadu_ps(d.bias->data() + b * 8);
    const float* base[3];
    for (int ky = 0; ky < 3; ++ky) base[ky] = rows[ky] ? rows[ky] + b * inBlockStride : nullptr;
    float* o = out + b * outBlockStride;
    int64_t xo = 0;
    auto put = [&](__m256 v) { _mm256_storeu_ps(o + xo * 8, _mm256_min_ps(_mm256_max_ps(v, lo), hi)); };
    for (; xo < std::min<int64_t>(1, outWidth); ++xo) put(depthwisePixel<true>(base, xo * stride - 1, width, wv, bias));
    if (stride == 1)
      for (; xo + kDepthPixels - 1 <= last; xo += kDepthPixels)
        depthwiseTile<kDepthPixels, 1>(base, xo - 1, wv, bias, lo, hi, o + xo * 8);
    else
      for (; xo + kDepthPixels - 1 <= last; xo += kDepthPixels)
        depthwiseTile<kDepthPixels, 2>(base, xo * 2 - 1, wv, bias, lo, hi, o + xo * 8);
    for (; xo <= last; ++xo) put(depthwisePixel<false>(base, xo * stride - 1, width, wv, bias));
    for (; xo < outWidth; ++xo) put(depthwisePixel<true>(base, xo * stride - 1, width, wv, bias));
  }
}
