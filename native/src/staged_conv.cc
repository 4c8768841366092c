#include "staged_conv.h"

#include <algorithm>

namespace dynbatch {

void StagedConv::adopt(const dnnl::convolution_forward::primitive_desc& pd, bool sum) {
  prim = dnnl::convolution_forward(pd);
  impl = pd.impl_info_str();
  innerSrc = pd.src_desc();
  innerDst = pd.dst_desc();
  auto reorder = [](const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
    return dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), from, cpuEngine(), to, scratchpadAttr()));
  };
  if (innerSrc != src) srcReorder = reorder(src, innerSrc);
  if (innerDst != dst) {
    dstReorder = reorder(innerDst, dst);
    if (sum) sumReorder = reorder(dst, innerDst);
  }
}

void StagedConv::stageSum(RunContext& ctx, const Tensor& sum, Layout dstLayout, const Tensor& out, void* d) const {
  if (sumReorder) runPrimitive(ctx, *sumReorder, {{DNNL_ARG_FROM, dst, sum.data}, {DNNL_ARG_TO, innerDst, d}});
  else if (sum.data != out.data) copyBytes(out.data, sum.data, layoutBytes(out.shape, dstLayout));
}

void packInput(const float* x, const Shape& s, Layout layout, const std::vector<float>& scale, const std::vector<float>& shift,
               float* y) {
  const int64_t N = s[0], C = s[1], HW = s[2] * s[3];
  const float* a = scale.data();
  const float* b = shift.data();
  if (layout == Layout::Plain) return channelAffinePlain(x, y, N, C, HW, a, b);
  const bool parallel = N * C * HW > kParallelMin;
  // nhwc is one block of all C channels; nChw8c/16c blocks of 8 or 16, the last one zero-padded.
  // Work items are runs of kRun pixels of one block, so that a single image splits over threads.
  constexpr int64_t kRun = 512;
  const int64_t block = layout == Layout::Nhwc ? C : layout == Layout::NChw8c ? 8 : 16;
  const int64_t blocks = (C + block - 1) / block, runs = (HW + kRun - 1) / kRun;
#pragma omp parallel for if (parallel)
  for (int64_t item = 0; item < N * blocks * runs; ++item) {
    const int64_t n = item / (blocks * runs), cb = item / runs % blocks, r = item % runs;
    const int64_t c0 = cb * block, count = std::min(block, C - c0);
    const int64_t p0 = r * kRun, p1 = std::min(HW, p0 + kRun);
    float* out = y + (n * blocks + cb) * HW * block;
    if (count < block) std::fill(out + p0 * block, out + p1 * block, 0.f);
    // Channel by channel: contiguous reads, one strided store each (a few channels: no transpose kernel pays).
    for (int64_t k = 0; k < count; ++k) {
      const float* in = x + (n * C + c0 + k) * HW;
      const float sa = a[c0 + k], sb = b[c0 + k];
      for (int64_t p = p0; p < p1; ++p) out[p * block + k] = in[p] * sa + sb;
    }
  }
}

}  // namespace dynbatch
