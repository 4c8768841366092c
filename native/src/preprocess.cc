#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace dynbatch {
namespace {

// Where each output index of one axis samples the source: its two neighbours and the second's weight.
struct AxisSamples {
  std::vector<int64_t> lo, hi;
  std::vector<float> weight;
};

AxisSamples sampleAxis(double start, double extent, int64_t n, int64_t size) {
  AxisSamples s;
  s.lo.resize(n);
  s.hi.resize(n);
  s.weight.resize(n);
  const double step = extent / static_cast<double>(n);
  for (int64_t k = 0; k < n; ++k) {
    const double v = std::min(static_cast<double>(size - 1), std::max(0.0, start + (static_cast<double>(k) + 0.5) * step - 0.5));
    const int64_t lo = static_cast<int64_t>(std::floor(v));
    s.lo[k] = lo;
    s.hi[k] = std::min(size - 1, lo + 1);
    s.weight[k] = static_cast<float>(v - static_cast<double>(lo));
  }
  return s;
}

// Separable: per output row the two source rows are blended over the columns the region reads
// (a loop the compiler vectorises), then each output pixel blends two columns of that line.
void resize(const uint8_t* data, int64_t fw, int64_t fh, bool bgr, double x, double y, double w, double h, int64_t width,
            int64_t height, float* out) {
  const AxisSamples cols = sampleAxis(x, w, width, fw);
  const AxisSamples rows = sampleAxis(y, h, height, fh);
  const int64_t first = cols.lo.front() * 3;
  const int64_t span = cols.hi.back() * 3 + 3 - first;
  std::vector<float> line(static_cast<size_t>(span));
  const int64_t plane = width * height;
  // Planes of the pixel's bytes 0 and 2 (byte 1 is G in both orders).
  float* p0 = out + (bgr ? 0 : 2 * plane);
  float* p1 = out + plane;
  float* p2 = out + (bgr ? 2 * plane : 0);
  for (int64_t j = 0; j < height; ++j) {
    const uint8_t* a = data + rows.lo[j] * fw * 3 + first;
    const uint8_t* b = data + rows.hi[j] * fw * 3 + first;
    const float fy = rows.weight[j];
    float* l = line.data();
#pragma omp simd
    for (int64_t k = 0; k < span; ++k)
      l[k] = static_cast<float>(a[k]) + (static_cast<float>(b[k]) - static_cast<float>(a[k])) * fy;
    const int64_t row = j * width;
    for (int64_t i = 0; i < width; ++i) {
      const float* c = l + (cols.lo[i] * 3 - first);
      const float* d = l + (cols.hi[i] * 3 - first);
      const float fx = cols.weight[i];
      p0[row + i] = c[0] + (d[0] - c[0]) * fx;
      p1[row + i] = c[1] + (d[1] - c[1]) * fx;
      p2[row + i] = c[2] + (d[2] - c[2]) * fx;
    }
  }
}

double num(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("toPlanarBgr: ") + name + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) throw Napi::RangeError::New(info.Env(), std::string("toPlanarBgr: ") + name + " must be finite");
  return v;
}

int64_t count(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double v = num(info, i, name);
  if (v < 1 || v != std::floor(v) || v > 1 << 16)
    throw Napi::RangeError::New(info.Env(), std::string("toPlanarBgr: ") + name + " must be an integer in 1..65536");
  return static_cast<int64_t>(v);
}

// A number as JavaScript would print it in a message (12, 0.5), not std::to_string's 12.000000.
std::string shortNum(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Napi::Value ToPlanarBgr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 12 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      !info[10].IsTypedArray() || info[10].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(
        env, "toPlanarBgr(data: Uint8Array, fw, fh, bgr, x, y, w, h, width, height, out: Float32Array, offset)");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  const int64_t fw = count(info, 1, "frame width"), fh = count(info, 2, "frame height");
  const bool bgr = info[3].ToBoolean().Value();
  const double x = num(info, 4, "x"), y = num(info, 5, "y"), w = num(info, 6, "w"), h = num(info, 7, "h");
  const int64_t width = count(info, 8, "width"), height = count(info, 9, "height");
  Napi::Float32Array out = info[10].As<Napi::Float32Array>();
  const double offset = num(info, 11, "offset");
  if (!(w > 0 && h > 0))
    throw Napi::RangeError::New(
        env, "toPlanarBgr: empty region " + shortNum(w) + "×" + shortNum(h) + " at (" + shortNum(x) + ", " + shortNum(y) + ")");
  if (static_cast<int64_t>(data.ElementLength()) < fw * fh * 3)
    throw Napi::RangeError::New(env, "toPlanarBgr: the frame holds fewer than width·height·3 bytes");
  const double needs = offset + static_cast<double>(3 * width * height);
  if (offset < 0 || offset != std::floor(offset))
    throw Napi::RangeError::New(env, "toPlanarBgr: offset must be a non-negative integer");
  if (needs > static_cast<double>(out.ElementLength()))
    throw Napi::RangeError::New(env, "toPlanarBgr: output holds " + std::to_string(out.ElementLength()) + " values, needs " +
                                         std::to_string(static_cast<int64_t>(needs)));
  resize(data.Data(), fw, fh, bgr, x, y, w, h, width, height, out.Data() + static_cast<int64_t>(offset));
  return info.Env().Undefined();
}

}  // namespace dynbatch
