// OpenCL C source of the DetectionOutput (SSD) kernels, appended to kKernelSource (kernels_cl.h)
// when a context builds its program.
#pragma once

namespace dynbatch {
namespace gpu {

inline const char* const kDetectionKernelSource = R"CLC(
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
