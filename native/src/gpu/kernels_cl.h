// OpenCL C source of the GPU kernels (DetectionOutput's in kernels_detection_cl.h), built once per
// context (DeviceContext::program).
// Few, generic kernels: shapes, strides and the batch n arrive as arguments, so one build
// serves every op instance and every batch (and pocl's compile cache stays small).
// Every kernel is 1-D over its output elements with a bounds check: launches round the
// work-item count up to whole work-groups of a fixed size.
#pragma once

namespace dynbatch {
namespace gpu {

inline const char* const kKernelSource = R"CLC(
typedef struct { int v[8]; } dims8;

/* ---------- elementwise ---------- */

float softplus_(float x) { return fmax(x, 0.0f) + log1p(exp(-fabs(x))); }

__kernel void unary(__global const float* x, __global float* y, int count, int op, float a, float b) {
  int i = get_global_id(0);
  if (i >= count) return;
  float v = x[i], r;
  switch (op) {
    case UNARY_RELU: r = fmax(v, 0.0f); break;
    case UNARY_LEAKYRELU: r = v > 0.0f ? v : a * v; break;
    case UNARY_SIGMOID: r = 1.0f / (1.0f + exp(-v)); break;
    case UNARY_TANH: r = tanh(v); break;
    case UNARY_EXP: r = exp(v); break;
    case UNARY_LOG: r = log(v); break;
    case UNARY_ABS: r = fabs(v); break;
    case UNARY_SQRT: r = sqrt(v); break;
    case UNARY_NEG: r = -v; break;
    case UNARY_ELU: r = v > 0.0f ? v : a * (exp(v) - 1.0f); break;
    case UNARY_CLAMP: r = fmin(fmax(v, a), b); break;
    case UNARY_HSWISH: r = v * fmin(fmax(v + 3.0f, 0.0f), 6.0f) / 6.0f; break;
    case UNARY_HSIGMOID: r = fmin(fmax(v + 3.0f, 0.0f), 6.0f) / 6.0f; break;
    case UNARY_HARDSIGMOID: r = fmin(fmax(a * v + b, 0.0f), 1.0f); break;
    case UNARY_SWISH: r = v / (1.0f + exp(-a * v)); break;
    case UNARY_GELU: r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752f)); break;  /* erf form; 1/sqrt(2) */
    /* tanh approximation: sqrt(2/pi) and its cubic coefficient */
    case UNARY_GELU_TANH: r = 0.5f * v * (1.0f + tanh(0.79788456080286536f * (v + 0.044715f * v * v * v))); break;
    case UNARY_SOFTPLUS: r = softplus_(v); break;
    case UNARY_MISH: r = v * tanh(softplus_(v)); break;
    case UNARY_FLOOR: r = floor(v); break;
    case UNARY_ERF: r = erf(v); break;
    default: r = ceil(v); break;  /* UNARY_CEIL */
  }
  y[i] = r;
}

/* numpy broadcasting: dims of the output, element strides of a and b (0 where broadcast). */
__kernel void binary(__global const float* a, __global const float* b, __global float* y, int count, int op,
                     int rank, dims8 dims, dims8 sa, dims8 sb) {
  int i = get_global_id(0);
  if (i >= count) return;
  int ia = 0, ib = 0, rem = i;
  for (int d = rank - 1; d >= 0; --d) {
    int c = rem % dims.v[d];
    rem /= dims.v[d];
    ia += c * sa.v[d];
    ib += c * sb.v[d];
  }
  float u = a[ia], v = b[ib], r;
  switch (op) {
    case BINARY_ADD: r = u + v; break;
    case BINARY_SUB: r = u - v; break;
    case BINARY_MUL: r = u * v; break;
    case BINARY_DIV: r = u / v; break;
    case BINARY_MAX: r = fmax(u, v); break;
    case BINARY_MIN: r = fmin(u, v); break;
    case BINARY_POW: r = pow(u, v); break;
    case BINARY_SQDIFF: r = (u - v) * (u - v); break;
    default: r = u > 0.0f ? u : v * u; break;  /* BINARY_PRELU: v is the slope */
  }
  y[i] = r;
}

/* y = x * scale[c] + shift[c] along axis 1 of [outer, C, inner]; scale may be absent (1). */
__kernel void channel_affine(__global const float* x, __global float* y, int count, int C, int inner,
                             __global const float* scale, int hasScale, __global const float* shift) {
  int i = get_global_id(0);
  if (i >= count) return;
  int c = (i / inner) % C;
  y[i] = (hasScale ? x[i] * scale[c] : x[i]) + shift[c];
}

/* ---------- convolution helpers (GEMM runs in CLBlast) ---------- */

/* col[img][c][ky][kx][oy][ox] for images img0.. of x [N, C, H, W]. */
__kernel void im2col(__global const float* x, int xoff, __global float* col, int count, int C, int H, int W,
                     int KH, int KW, int OH, int OW, int sh, int sw, int ph, int pw, int dh, int dw) {
  int i = get_global_id(0);
  if (i >= count) return;
  int ox = i % OW, r = i / OW;
  int oy = r % OH; r /= OH;
  int kx = r % KW; r /= KW;
  int ky = r % KH; r /= KH;
  int c = r % C;
  int img = r / C;
  int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
  col[i] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[xoff + ((img * C + c) * H + iy) * W + ix] : 0.0f;
}

/* Direct convolution for grouped/depthwise layers, where per-group GEMMs would be tiny. */
__kernel void conv_direct(__global const float* x, __global const float* w, __global const float* bias, int hasBias,
                          __global float* y, int count, int C, int H, int W, int O, int OH, int OW, int KH, int KW,
                          int sh, int sw, int ph, int pw, int dh, int dw, int group) {
  int i = get_global_id(0);
  if (i >= count) return;
  int ox = i % OW, r = i / OW;
  int oy = r % OH; r /= OH;
  int o = r % O;
  int img = r / O;
  int cg = C / group, g = o / (O / group);
  float acc = 0.0f;
  for (int c = 0; c < cg; ++c) {
    __global const float* xc = x + (img * C + g * cg + c) * H * W;
    __global const float* wc = w + (o * cg + c) * KH * KW;
    for (int ky = 0; ky < KH; ++ky) {
      int iy = oy * sh - ph + ky * dh;
      if (iy < 0 || iy >= H) continue;
      for (int kx = 0; kx < KW; ++kx) {
        int ix = ox * sw - pw + kx * dw;
        if (ix >= 0 && ix < W) acc += xc[iy * W + ix] * wc[ky * KW + kx];
      }
    }
  }
  y[i] = hasBias ? acc + bias[o] : acc;
}

/* Transposed convolution as a gather over the inputs that reach each output: w [C, O/g, KH, KW]. */
__kernel void deconv_direct(__global const float* x, __global const float* w, __global const float* bias, int hasBias,
                            __global float* y, int count, int C, int H, int W, int O, int OH, int OW, int KH, int KW,
                            int sh, int sw, int ph, int pw, int dh, int dw, int group) {
  int i = get_global_id(0);
  if (i >= count) return;
  int ox = i % OW, r = i / OW;
  int oy = r % OH; r /= OH;
  int o = r % O;
  int img = r / O;
  int cg = C / group, og = O / group, g = o / og, oo = o - g * og;
  float acc = 0.0f;
  for (int c = 0; c < cg; ++c) {
    int ci = g * cg + c;
    __global const float* xc = x + (img * C + ci) * H * W;
    __global const float* wc = w + (ci * og + oo) * KH * KW;
    for (int ky = 0; ky < KH; ++ky) {
      int ty = oy + ph - ky * dh;
      if (ty < 0 || ty % sh != 0 || ty / sh >= H) continue;
      for (int kx = 0; kx < KW; ++kx) {
        int tx = ox + pw - kx * dw;
        if (tx < 0 || tx % sw != 0 || tx / sw >= W) continue;
        acc += xc[(ty / sh) * W + tx / sw] * wc[ky * KW + kx];
      }
    }
  }
  y[i] = hasBias ? acc + bias[o] : acc;
}

/* ---------- pooling, normalisation ---------- */

/* Max, or average over the window: divided by the positions inside x (excludePad) or by
   KH*KW (padding counted as zeros), as oneDNN's pooling does. */
__kernel void pool(__global const float* x, __global float* y, int count, int H, int W, int OH, int OW, int KH, int KW,
                   int sh, int sw, int ph, int pw, int dh, int dw, int isMax, int excludePad) {
  int i = get_global_id(0);
  if (i >= count) return;
  int ox = i % OW, r = i / OW;
  int oy = r % OH;
  int nc = r / OH;
  __global const float* xc = x + nc * H * W;
  float acc = isMax ? -FLT_MAX : 0.0f;
  int inside = 0;
  for (int ky = 0; ky < KH; ++ky) {
    int iy = oy * sh - ph + ky * dh;
    if (iy < 0 || iy >= H) continue;
    for (int kx = 0; kx < KW; ++kx) {
      int ix = ox * sw - pw + kx * dw;
      if (ix < 0 || ix >= W) continue;
      float v = xc[iy * W + ix];
      acc = isMax ? fmax(acc, v) : acc + v;
      ++inside;
    }
  }
  if (!isMax) acc = excludePad ? (inside ? acc / (float)inside : 0.0f) : acc / (float)(KH * KW);
  y[i] = acc;
}

/* y = x / (bias + alpha/n * sum x^2)^beta over a window of channels (across, n = size) or
   positions (within, n = size^2) reaching (size-1)/2 either side, as oneDNN does (an even size
   covers size-1 elements). */
__kernel void lrn(__global const float* x, __global float* y, int count, int C, int H, int W, int size, float alpha,
                  float beta, float bias, int across) {
  int i = get_global_id(0);
  if (i >= count) return;
  int hw = H * W;
  int p = i % hw, c = (i / hw) % C, img = i / (hw * C);
  int h = p / W, w = p % W;
  int lo = -((size - 1) / 2), hi = (size - 1) / 2;
  float sum = 0.0f;
  if (across) {
    for (int k = max(c + lo, 0); k <= min(c + hi, C - 1); ++k) {
      float v = x[(img * C + k) * hw + p];
      sum += v * v;
    }
  } else {
    for (int yy = max(h + lo, 0); yy <= min(h + hi, H - 1); ++yy)
      for (int xx = max(w + lo, 0); xx <= min(w + hi, W - 1); ++xx) {
        float v = x[(img * C + c) * hw + yy * W + xx];
        sum += v * v;
      }
  }
  float n = across ? (float)size : (float)(size * size);
  y[i] = x[i] * pow(bias + alpha / n * sum, -beta);
}

/* Softmax (or log-softmax) along the axis of [outer, len, inner]; one work-item per (outer, inner). */
__kernel void softmax(__global const float* x, __global float* y, int count, int len, int inner, int isLog) {
  int i = get_global_id(0);
  if (i >= count) return;
  int base = (i / inner) * len * inner + i % inner;
  float m = -INFINITY;
  for (int k = 0; k < len; ++k) m = fmax(m, x[base + k * inner]);
  float sum = 0.0f;
  for (int k = 0; k < len; ++k) sum += exp(x[base + k * inner] - m);
  if (isLog) {
    float ls = log(sum);
    for (int k = 0; k < len; ++k) y[base + k * inner] = x[base + k * inner] - m - ls;
  } else {
    for (int k = 0; k < len; ++k) y[base + k * inner] = exp(x[base + k * inner] - m) / sum;
  }
}

/* One output element per work-item: `kept` axes address it, `red` axes are folded.
   op: a REDUCE_* code (gpu/op_codes.h).
   Sums are compensated (Kahan) to stay close to the CPU's double accumulation. */
__kernel void reduce(__global const float* x, __global float* y, int count, int op, int keptRank, dims8 keptSize,
                     dims8 keptStride, int redRank, dims8 redSize, dims8 redStride, int redCount) {
  int i = get_global_id(0);
  if (i >= count) return;
  int base = 0, rem = i;
  for (int d = keptRank - 1; d >= 0; --d) {
    base += (rem % keptSize.v[d]) * keptStride.v[d];
    rem /= keptSize.v[d];
  }
  float m = -INFINITY;
  if (op == REDUCE_LOGSUMEXP)
    for (int r = 0; r < redCount; ++r) {
      int off = base, q = r;
      for (int d = redRank - 1; d >= 0; --d) { off += (q % redSize.v[d]) * redStride.v[d]; q /= redSize.v[d]; }
      m = fmax(m, x[off]);
    }
  float acc = op == REDUCE_MAX ? -INFINITY : op == REDUCE_MIN ? INFINITY : op == REDUCE_PROD ? 1.0f : 0.0f, comp = 0.0f;
  for (int r = 0; r < redCount; ++r) {
    int off = base, q = r;
    for (int d = redRank - 1; d >= 0; --d) { off += (q % redSize.v[d]) * redStride.v[d]; q /= redSize.v[d]; }
    float v = x[off];
    if (op == REDUCE_MAX) { acc = fmax(acc, v); continue; }
    if (op == REDUCE_MIN) { acc = fmin(acc, v); continue; }
    if (op == REDUCE_PROD) { acc *= v; continue; }
    float t = op == REDUCE_L1 ? fabs(v) : (op == REDUCE_L2 || op == REDUCE_SUMSQUARE) ? v * v : op == REDUCE_LOGSUMEXP ? exp(v - m) : v;
    float yk = t - comp, s = acc + yk;
    comp = (s - acc) - yk;
    acc = s;
  }
  if (op == REDUCE_MEAN) acc /= (float)redCount;
  if (op == REDUCE_L2) acc = sqrt(acc);
  if (op == REDUCE_LOGSUMEXP) acc = isinf(m) ? m : m + log(acc);
  y[i] = acc;
}

/* ---------- data movement ---------- */

/* y[yoff + sum c_d*ys_d] = x[xoff + sum c_d*xs_d] over the index space `dims`: transpose, slice
   (negative strides walk backwards), and the pieces of concat and split. */
__kernel void strided_copy(__global const float* x, int xoff, __global float* y, int yoff, int count, int rank,
                           dims8 dims, dims8 xs, dims8 ys) {
  int i = get_global_id(0);
  if (i >= count) return;
  int xi = xoff, yi = yoff, rem = i;
  for (int d = rank - 1; d >= 0; --d) {
    int c = rem % dims.v[d];
    rem /= dims.v[d];
    xi += c * xs.v[d];
    yi += c * ys.v[d];
  }
  y[yi] = x[xi];
}

/* y [outer, nIdx, inner] = x [outer, len, inner] at the given indices. */
__kernel void gather(__global const float* x, __global const int* idx, __global float* y, int count, int nIdx, int len,
                     int inner) {
  int i = get_global_id(0);
  if (i >= count) return;
  int k = i % inner, r = i / inner;
  int j = r % nIdx, o = r / nIdx;
  y[i] = x[(o * len + idx[j]) * inner + k];
}

/* FakeQuantize-1; lim rows: input_low, input_high, output_low, output_high of `period` values,
   element i uses column (i / inner) % period. rint rounds half to even like the CPU op. */
__kernel void fake_quantize(__global const float* x, __global const float* lim, __global float* y, int count, int period,
                            int inner, float steps) {
  int i = get_global_id(0);
  if (i >= count) return;
  int j = (i / inner) % period;
  float il = lim[j], ih = lim[period + j], ol = lim[2 * period + j], oh = lim[3 * period + j];
  float v = x[i];
  y[i] = v <= fmin(il, ih) ? ol : v > fmax(il, ih) ? oh : rint((v - il) / (ih - il) * steps) / steps * (oh - ol) + ol;
}

/* mode: a PAD_* code (gpu/op_codes.h); indices validated on the host. */
__kernel void pad(__global const float* x, __global float* y, int count, int rank, dims8 ydims, dims8 xdims,
                  dims8 begin, int mode, float value) {
  int i = get_global_id(0);
  if (i >= count) return;
  int off = 0, stride = 1, rem = i;
  for (int d = rank - 1; d >= 0; --d) {
    int c = rem % ydims.v[d];
    rem /= ydims.v[d];
    int n = xdims.v[d], k = c - begin.v[d];
    if (k < 0 || k >= n) {
      if (mode == PAD_CONSTANT) { y[i] = value; return; }
      k = mode == PAD_EDGE ? (k < 0 ? 0 : n - 1) : mode == PAD_REFLECT ? (k < 0 ? -k : 2 * (n - 1) - k) : (k < 0 ? -k - 1 : 2 * n - 1 - k);
    }
    off += k * stride;
    stride *= n;
  }
  y[i] = x[off];
}

/* Separable n-linear / nearest resize from per-axis taps (input indices i0, i1 with weights
   w0, w1; nearest has w1 = 0) precomputed on the host; tapBase[d] is axis d's first tap. */
__kernel void interpolate(__global const float* x, __global float* y, int count, int rank, dims8 ydims, dims8 xstride,
                          dims8 tapBase, __global const int2* taps, __global const float2* weights) {
  int i = get_global_id(0);
  if (i >= count) return;
  int base = 0, rem = i, nTwo = 0, step[8];
  float w0[8], w1[8];
  for (int d = rank - 1; d >= 0; --d) {
    int c = rem % ydims.v[d];
    rem /= ydims.v[d];
    int2 t = taps[tapBase.v[d] + c];
    float2 w = weights[tapBase.v[d] + c];
    base += t.x * xstride.v[d];
    if (w.y != 0.0f) {
      step[nTwo] = (t.y - t.x) * xstride.v[d];
      w0[nTwo] = w.x;
      w1[nTwo] = w.y;
      ++nTwo;
    }
  }
  float acc = 0.0f;
  for (int m = 0; m < (1 << nTwo); ++m) {
    float wt = 1.0f;
    int off = base;
    for (int k = 0; k < nTwo; ++k) {
      if (m & (1 << k)) { wt *= w1[k]; off += step[k]; }
      else wt *= w0[k];
    }
    acc += wt * x[off];
  }
  y[i] = acc;
}

)CLC";

}  // namespace gpu
}  // namespace dynbatch
