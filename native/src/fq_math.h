// FakeQuantize's level index, shared by the FP32 op (ref_fake_quantize.cc) and the int8
// convolution and matmul (quantizeToLevels in dnnl_common.cc), so all put every value on the same level.
#pragma once
#include <algorithm>

namespace dynbatch {

// Round half to even for |v| < 2^22, as std::nearbyint in the default rounding mode, without
// libm's call that saves and restores the floating-point environment (tens of ns per element):
// adding 1.5 · 2^23 leaves no fraction bits, so the FPU rounds. Vectorizes.
inline float roundHalfEven(float v) {
  constexpr float kMagic = 12582912.f;
  return (v + kMagic) - kMagic;
}

// The level (0 .. steps) of v: at or below the low limit 0, above the high one `steps`, else
// nearest((v − il) / (ih − il) · steps). Clamping the rounded value gives the same: below il it
// is ≤ 0, above ih ≥ steps (il == ih divides by zero: ±inf, or NaN at v == il, which
// max(0, NaN) makes 0). Min/max, not compares of v, so that GCC vectorizes loops over it (4× faster).
inline float fakeQuantizeLevel(float v, float il, float ih, float steps) {
  const float level = roundHalfEven((v - il) / (ih - il) * steps);
  return std::min(std::max(0.f, level), steps);
}

}  // namespace dynbatch
