// OpenCL C source of every GPU kernel, built once per context (DeviceContext::program).
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

/* ---------- DetectionOutput (SSD) ---------- */
/* Boxes are compared against thresholds: keep a*b+c unfused so results match the CPU bit for bit. */
#pragma OPENCL FP_CONTRACT OFF

typedef struct { float xmin, ymin, xmax, ymax; } box_t;

/* Higher score first, then lower prior, then lower label: a total order, as on the CPU. */
int better(float sa, int pa, int la, float sb, int pb, int lb) {
  if (sa != sb) return sa > sb;
  if (pa != pb) return pa < pb;
  return la < lb;
}

float clip01(float v) { return fmax(0.0f, fmin(1.0f, v)); }

float box_area(box_t b) { return (b.xmax < b.xmin || b.ymax < b.ymin) ? 0.0f : (b.xmax - b.xmin) * (b.ymax - b.ymin); }

float iou(box_t a, box_t b) {
  if (b.xmin > a.xmax || b.xmax < a.xmin || b.ymin > a.ymax || b.ymax < a.ymin) return 0.0f;
  float w = fmin(a.xmax, b.xmax) - fmax(a.xmin, b.xmin);
  float h = fmin(a.ymax, b.ymax) - fmax(a.ymin, b.ymin);
  if (w <= 0.0f || h <= 0.0f) return 0.0f;
  float inter = w * h;
  return inter / (box_area(a) + box_area(b) - inter);
}

/* Static parameters of one DetectionOutput layer (see ops/detection_output.cc). */
typedef struct {
  int P, C, locClasses, background, topK, keepTopK, maxKept, slots;
  int shareLocation, varianceInTarget, normalized, clipBefore, clipAfter, decreaseLabel, code, priorsPerImage;
  int rowLen, priorStride, rows;
  /* scratch layout, in 4-byte words: candidates (score, prior, label), kept, counts, order */
  int offS, offP, offL, offKept, offKeptCount, offOrder, offOrderCount;
  float nms, conf, inputWidth, inputHeight;
} det_params;

box_t decode_box(__global const float* loc, __global const float* pri, det_params q, int c, int p) {
  __global const float* t = loc + (p * q.locClasses + c) * 4;
  __global const float* pb = pri + p * (q.normalized ? 4 : 5) + (q.normalized ? 0 : 1);
  float pxmin = pb[0], pymin = pb[1], pxmax = pb[2], pymax = pb[3];
  if (!q.normalized) {
    pxmin /= q.inputWidth;
    pymin /= q.inputHeight;
    pxmax /= q.inputWidth;
    pymax /= q.inputHeight;
  }
  float v0 = 1.0f, v1 = 1.0f, v2 = 1.0f, v3 = 1.0f;
  if (!q.varianceInTarget) {
    __global const float* pv = pri + q.rowLen + p * 4;
    v0 = pv[0]; v1 = pv[1]; v2 = pv[2]; v3 = pv[3];
  }
  float pw = pxmax - pxmin, ph = pymax - pymin;
  box_t b;
  if (q.code == 0) {          /* CORNER */
    b.xmin = pxmin + v0 * t[0]; b.ymin = pymin + v1 * t[1]; b.xmax = pxmax + v2 * t[2]; b.ymax = pymax + v3 * t[3];
  } else if (q.code == 2) {   /* CORNER_SIZE */
    b.xmin = pxmin + v0 * t[0] * pw; b.ymin = pymin + v1 * t[1] * ph;
    b.xmax = pxmax + v2 * t[2] * pw; b.ymax = pymax + v3 * t[3] * ph;
  } else {                    /* CENTER_SIZE */
    float cx = v0 * t[0] * pw + (pxmin + pxmax) / 2, cy = v1 * t[1] * ph + (pymin + pymax) / 2;
    float w = exp(v2 * t[2]) * pw, h = exp(v3 * t[3]) * ph;
    b.xmin = cx - w / 2; b.ymin = cy - h / 2; b.xmax = cx + w / 2; b.ymax = cy + h / 2;
  }
  if (q.clipBefore) { b.xmin = clip01(b.xmin); b.ymin = clip01(b.ymin); b.xmax = clip01(b.xmax); b.ymax = clip01(b.ymax); }
  return b;
}

/* Heap sort of (score, prior, label) triples, best first. */
void sort_cands(__global float* s, __global int* p, __global int* l, int n) {
  for (int start = n / 2 - 1, end = n; end > 1;) {
    int root;
    if (start >= 0) root = start--;
    else {
      --end;
      float ts = s[0]; s[0] = s[end]; s[end] = ts;
      int tp = p[0]; p[0] = p[end]; p[end] = tp;
      int tl = l[0]; l[0] = l[end]; l[end] = tl;
      root = 0;
    }
    /* sift down: the heap's top is the worst element */
    for (;;) {
      int child = 2 * root + 1;
      if (child >= end) break;
      if (child + 1 < end && better(s[child], p[child], l[child], s[child + 1], p[child + 1], l[child + 1])) ++child;
      if (!better(s[root], p[root], l[root], s[child], p[child], l[child])) break;
      float ts = s[root]; s[root] = s[child]; s[child] = ts;
      int tp = p[root]; p[root] = p[child]; p[child] = tp;
      int tl = l[root]; l[root] = l[child]; l[child] = tl;
      root = child;
    }
  }
}

/* One work-item per (image, slot): a slot is one class (Caffe style) or all classes at once
   (MXNet style, decreaseLabel). Candidates above the threshold, best topK, greedy NMS; kept
   detections go to kept[(img*slots+slot)*maxKept] as (score, label, prior, box). */
__kernel void detection_nms(__global const float* loc, __global const float* conf, __global const float* priors,
                            int images, det_params q, __global float* scratch) {
  int i = get_global_id(0);
  if (i >= images * q.slots) return;
  int img = i / q.slots, slot = i % q.slots;
  __global const float* lo = loc + img * q.P * q.locClasses * 4;
  __global const float* cf = conf + img * q.P * q.C;
  __global const float* pri = priors + (q.priorsPerImage ? img * q.priorStride : 0);
  __global float* s = scratch + q.offS + i * q.P;
  __global int* p = (__global int*)(scratch + q.offP) + i * q.P;
  __global int* l = (__global int*)(scratch + q.offL) + i * q.P;
  int n = 0;
  if (!q.decreaseLabel) {
    if (slot != q.background)
      for (int k = 0; k < q.P; ++k) {
        float v = cf[k * q.C + slot];
        if (v > q.conf) { s[n] = v; p[n] = k; l[n] = slot; ++n; }
      }
  } else {
    for (int k = 0; k < q.P; ++k) {
      float top = -1.0f;
      int id = 0;
      for (int c = 1; c < q.C; ++c) {
        if (c == q.background) continue;
        float v = cf[k * q.C + c];
        if (v > top) { top = v; id = c; }
      }
      if (id > 0 && top >= q.conf) { s[n] = top; p[n] = k; l[n] = id; ++n; }
    }
  }
  sort_cands(s, p, l, n);
  if (q.topK > -1 && n > q.topK) n = q.topK;
  __global float* kb = scratch + q.offKept + i * q.maxKept * 7;
  int nk = 0;
  for (int k = 0; k < n; ++k) {
    box_t b = decode_box(lo, pri, q, q.shareLocation ? 0 : l[k], p[k]);
    int keep = 1;
    for (int j = 0; j < nk && keep; ++j) {
      __global float* o = kb + j * 7;
      if ((int)o[1] != l[k]) continue;
      box_t a = {o[3], o[4], o[5], o[6]};
      if (iou(b, a) > q.nms) keep = 0;
    }
    if (!keep) continue;
    __global float* o = kb + nk * 7;
    o[0] = s[k]; o[1] = (float)l[k]; o[2] = (float)p[k];
    o[3] = b.xmin; o[4] = b.ymin; o[5] = b.xmax; o[6] = b.ymax;
    ++nk;
  }
  ((__global int*)(scratch + q.offKeptCount))[i] = nk;
}

/* Per image: all kept detections, the best keepTopK of them, ordered by label then score.
   order[img*cap ..] receives indices of kept rows (cap = slots*maxKept). */
__kernel void detection_merge(int images, det_params q, __global float* scratch) {
  int img = get_global_id(0);
  if (img >= images) return;
  __global const float* kept = scratch + q.offKept;
  __global const int* keptCount = (__global const int*)(scratch + q.offKeptCount);
  __global int* order = (__global int*)(scratch + q.offOrder);
  __global int* orderCount = (__global int*)(scratch + q.offOrderCount);
  int cap = q.slots * q.maxKept;
  __global int* ord = order + img * cap;
  int n = 0;
  for (int slot = 0; slot < q.slots; ++slot) {
    int base = (img * q.slots + slot) * q.maxKept;
    for (int k = 0; k < keptCount[img * q.slots + slot]; ++k) ord[n++] = base + k;
  }
  /* pass 0: best first (then keep keepTopK); pass 1: by label, best first within a label */
  for (int pass = 0; pass < 2; ++pass) {
    for (int a = 1; a < n; ++a) {
      int cur = ord[a];
      float cs = kept[cur * 7], cl = kept[cur * 7 + 1];
      int cp = (int)kept[cur * 7 + 2];
      int b = a - 1;
      while (b >= 0) {
        int o = ord[b];
        float os = kept[o * 7], ol = kept[o * 7 + 1];
        int op = (int)kept[o * 7 + 2];
        int before = pass == 1 && cl != ol ? cl < ol : better(cs, cp, (int)cl, os, op, (int)ol);
        if (!before) break;
        ord[b + 1] = o;
        --b;
      }
      ord[b + 1] = cur;
    }
    if (pass == 0 && q.keepTopK > -1 && n > q.keepTopK) n = q.keepTopK;
  }
  orderCount[img] = n;
}

/* Rows (image, label, score, box) image after image; after the last a row with image -1; zeros after. */
__kernel void detection_write(int images, det_params q, __global const float* scratch, __global float* out) {
  if (get_global_id(0) != 0) return;
  __global const float* kept = scratch + q.offKept;
  __global const int* order = (__global const int*)(scratch + q.offOrder);
  __global const int* orderCount = (__global const int*)(scratch + q.offOrderCount);
  int cap = q.slots * q.maxKept, row = 0;
  for (int img = 0; img < images && row < q.rows; ++img)
    for (int k = 0; k < orderCount[img] && row < q.rows; ++k, ++row) {
      __global const float* d = kept + order[img * cap + k] * 7;
      __global float* r = out + row * 7;
      box_t b = {d[3], d[4], d[5], d[6]};
      if (q.clipAfter) { b.xmin = clip01(b.xmin); b.ymin = clip01(b.ymin); b.xmax = clip01(b.xmax); b.ymax = clip01(b.ymax); }
      r[0] = (float)img;
      r[1] = q.decreaseLabel ? d[1] - 1.0f : d[1];
      r[2] = d[0];
      r[3] = b.xmin; r[4] = b.ymin; r[5] = b.xmax; r[6] = b.ymax;
    }
  for (int k = row * 7; k < q.rows * 7; ++k) out[k] = 0.0f;
  if (row < q.rows) out[row * 7] = -1.0f;
}
)CLC";

}  // namespace gpu
}  // namespace dynbatch
