#include "staged_conv.h"

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

}  // namespace dynbatch
