// Frame pre-processing for the face cascade (kernel/cascade/preprocess.ts): a region of a packed
// 8-bit BGR or RGB frame, resized with bilinear sampling, as three float planes B, G, R.
#pragma once
#include <napi.h>

namespace dynbatch {

// toPlanarBgr(data: Uint8Array, frameWidth, frameHeight, bgr: boolean, x, y, w, h, width, height,
// out: Float32Array, offset): output pixel (i, j) samples the frame at the region's pixel centre
// (x + (i + 0.5)·w/width − 0.5, likewise for y), clamped to the frame. Throws a TypeError or
// RangeError for arguments that do not fit (never reads or writes out of bounds).
Napi::Value ToPlanarBgr(const Napi::CallbackInfo& info);

}  // namespace dynbatch
