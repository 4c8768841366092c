// Row kernels of the stripe-fused depthwise-separable convolutions (ops/fused_sepconv.cc), on
// activations in 8-channel blocks (nChw8c: block b, row y, column x, lane c at
// ((b * H + y) * W + x) * 8 + c). A 1x1 convolution or a depthwise 3x3 is computed one output
// row at a time, so a chain of them can keep its intermediate rows in a few row buffers that stay
// in L1/L2 instead of writing whole tensors to memory and reading them back.
// AVX2 + FMA (8-wide): where 512-bit FMAs are split in two (Zen 4) and on AVX2-only machines this
// reaches the FP32 peak.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace dynbatch {

// A clamp applied after the bias: ReLU is [0, inf), ReLU6 [0, 6], none (-inf, inf).
struct Clamp {
  float lo, hi;
};

// A 1x1 convolution's constants packed for pointwiseRow: weights [outBlocks][inChannels padded
// to 8][8], bias [outBlocks][8]; padded lanes are zero.
struct PointwiseWeights {
  int64_t inBlocks = 0, outBlocks = 0;
  // Shared by content with every op of the process that packs the same values (shared_constants.h).
  std::shared_ptr<const std::vector<float>> w, bias;
  // `w`: [cout][cin] (OpenVINO's [cout, cin, 1, 1]); `bias` cout values or empty.
  PointwiseWeights(const float* w, const float* bias, int64_t cout, int64_t cin);
  PointwiseWeights() = default;
};

// A depthwise 3x3's constants: weights [blocks][9][8], bias [blocks][8].
struct DepthwiseWeights {
  int64_t blocks = 0;
  std::shared_ptr<const std::vector<float>> w, bias;
  // `w`: [c][3][3] (OpenVINO's [c, 1, 1, 3, 3]); `bias` c values or empty.
  DepthwiseWeights(const float* w, const float* bias, int64_t c);
  DepthwiseWeights() = default;
};

// One row of a 1x1 convolution: `width` pixels of `in` (block b's row at in + b * inBlockStride)
// into `out` (block b's row at out + b * outBlockStride): bias, then `sum` (laid out as `out`;
// null for none) added, then the clamp.
void pointwiseRow(const float* in, int64_t inBlockStride, int64_t width, const PointwiseWeights& p, Clamp clamp, const float* sum,
                  float* out, int64_t outBlockStride);

// One output row of a depthwise 3x3 with padding 1 and stride 1 or 2: rows[ky] is the input row
// under kernel row ky (block b at rows[ky] + b * inBlockStride), null where it lies in the padding;
// `width` input columns give `outWidth` output columns.
void depthwiseRow(const float* const rows[3], int64_t inBlockStride, int64_t width, int stride, int64_t outWidth,
                  const DepthwiseWeights& d, Clamp clamp, float* out, int64_t outBlockStride);

// The vector ISA the row kernels run with: "avx512" (AVX-512VL, 32 registers: bigger tiles) or
// "avx2". Follows oneDNN's cap ONEDNN_MAX_CPU_ISA, so one machine can test both.
const char* rowKernelIsa();

// Whether the row kernels can run here: the addon's baseline is SSE2, they need AVX2 and FMA, and
// oneDNN must not be capped below AVX2 (ONEDNN_MAX_CPU_ISA=SSE41 stands in for such a CPU).
bool rowKernelsRun();

// Whether fusing a separable chain into these kernels pays on this CPU: where 256-bit FMAs reach
// the FP32 peak (AVX2 machines; Zen 4, which splits 512-bit FMAs), not where oneDNN's 512-bit
// kernels run at twice their rate. DYNBATCH_FUSE_SEPCONV=1 or 0 forces the answer where the
// kernels run; where they cannot it is always false.
bool sepconvFusionPays();

// A depthwise-separable chain computed row by row: an optional 1x1 "expand", a depthwise 3x3
// (padding 1, stride 1 or 2), an optional 1x1 "project", each with bias and clamp, computed for a
// few output rows at a time: the expanded rows the depthwise reads (with the two or one it shares
// with the group before) and the depthwise rows the project reads live in row buffers of the
// thread: neither intermediate tensor is ever written whole.
class SepChain {
 public:
  int64_t height = 0, width = 0, outHeight = 0, outWidth = 0;
  int stride = 1;
  bool expand = false, project = false;
  PointwiseWeights expandW, projectW;
  DepthwiseWeights depthW;
  Clamp expandClamp{}, depthClamp{}, projectClamp{};

  int64_t inBlocks() const { return expand ? expandW.inBlocks : depthW.blocks; }
  int64_t outBlocks() const { return project ? projectW.outBlocks : depthW.blocks; }
  // Floats of one thread's row buffers.
  int64_t scratchFloats() const;
  // Output rows [y0, y1) of one sample (`in`, `sum` and `out` in 8-channel blocks); `sum`, when
  // not null, is added to the project's result before its clamp (a residual).
  void rows(const float* in, const float* sum, float* out, int64_t y0, int64_t y1, float* scratch) const;
  // Samples [0, n) on `threads` OpenMP threads: each takes whole samples when there are enough,
  // else stripes of rows (each stripe recomputes the expanded rows at its edges).
  void run(const float* in, const float* sum, float* out, int64_t n, int threads) const;

 private:
  // Output rows computed together: at least kGroupPixels pixels, so that the 1x1s of narrow maps
  // (7x7, 14x14) run over whole register tiles rather than a row's leftover pixels.
  int64_t groupRows() const;
  static constexpr int64_t kGroupPixels = 32;
  // threadBuffer slot of the row buffers. Ops use a slot only during their own run, so sharing
  // is safe; 3 (also qconv's and qmatmul's quantized input) is the one no FP32 conv uses: 0 is
  // oneDNN's scratchpad, 1 and 2 StagedConv's reorders.
  static constexpr int kScratchSlot = 3;
};

}  // namespace dynbatch
