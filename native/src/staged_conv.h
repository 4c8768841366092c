// A oneDNN convolution with the reorders between the layouts the executor stores its tensors in
// and the ones the primitive picked: the FP32 convolution (ops/dnnl_conv.cc) and the int8 one
// (ops/dnnl_qconv.cc) build and run theirs the same way.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "step_memory.h"

namespace dynbatch {

struct StagedConv {
  dnnl::convolution_forward prim;
  dnnl::memory::desc src, dst;            // as the executor stores them
  dnnl::memory::desc innerSrc, innerDst;  // the primitive's layouts
  std::optional<dnnl::reorder> srcReorder, dstReorder, sumReorder;
  dnnl::memory weights, bias;
  std::string impl;

  // Takes `pd`'s primitive and layouts, with a reorder wherever they differ from src and dst (and
  // one into the primitive's destination for a sum post-op's input when `sum`).
  void adopt(const dnnl::convolution_forward::primitive_desc& pd, bool sum);

  // One run on `x` (stored as src): reordered in through thread buffer 1, the sum post-op's input
  // `sum` (stored as dst in `dstLayout`; null without one) put where the primitive accumulates,
  // the primitive with the constant memories `addFixed` adds, the result reordered out into `out`
  // through thread buffer 2.
  template <typename AddFixed>
  void run(RunContext& ctx, void* x, const Tensor* sum, Layout dstLayout, const Tensor& out, const AddFixed& addFixed) const {
    const dnnl::memory::desc& srcMd = srcReorder ? innerSrc : src;
    const dnnl::memory::desc& dstMd = dstReorder ? innerDst : dst;
    void* s = srcReorder ? threadBuffer(1, srcMd.get_size()) : x;
    void* d = dstReorder ? threadBuffer(2, dstMd.get_size()) : out.data;
    if (srcReorder) runPrimitive(ctx, *srcReorder, {{DNNL_ARG_FROM, src, x}, {DNNL_ARG_TO, srcMd, s}});
    if (sum) stageSum(ctx, *sum, dstLayout, out, d);
    runPrimitive(ctx, prim, {{DNNL_ARG_SRC, srcMd, s}, {DNNL_ARG_DST, dstMd, d}}, addFixed);
    if (dstReorder) runPrimitive(ctx, *dstReorder, {{DNNL_ARG_FROM, dstMd, d}, {DNNL_ARG_TO, dst, out.data}});
  }

 private:
  // A sum post-op adds what the destination holds before the primitive runs: puts `sum` there,
  // reordered into the primitive's buffer `d` when it computes in another layout, else copied
  // into `out` unless it already is that buffer.
  void stageSum(RunContext& ctx, const Tensor& sum, Layout dstLayout, const Tensor& out, void* d) const;
};

// Writes plain NCHW `x` of shape `s` into `y` in `layout`, each channel c as x·scale[c] + shift[c]
// (one value per channel in each), the channels a block pads past C as zeros: a conv reads a
// program input this way in one pass, instead of an affine step and a reorder step before it.
void packInput(const float* x, const Shape& s, Layout layout, const std::vector<float>& scale, const std::vector<float>& shift,
               float* y);

}  // namespace dynbatch
