// Prototype measurement for issue 12: a stripe-fused depthwise-separable chain (fused_rows.h)
// against the separate oneDNN primitives the plugin runs on Zen 4 (nChw8c, jit_1x1_avx2 and
// jit_dw_avx2 with bias and clamp post-ops), interleaved; arguments: repetitions, batch, threads.
// A standalone program around SepChain (no kernels of its own), built by neither binding.gyp nor
// CI; build and run it from the repository root:
//   g++ -O3 -fopenmp -std=c++17 -Wno-psabi -Inative/src native/bench/fused_sepconv_bench.cc
//     native/src/fused_rows.cc native/src/dnnl_common.cc native/src/op.cc -ldnnl -o /tmp/fsb
//   /tmp/fsb 200 1 2
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <vector>

#include "fused_rows.h"

using namespace dynbatch;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

static dnnl::engine eng(dnnl::engine::kind::cpu, 0);

struct Layer {
  dnnl::convolution_forward prim;
  dnnl::memory w, b;
  dnnl::memory::desc src, dst;
  std::string impl;
};

// A oneDNN conv in nChw8c with bias and clamp, weights given as OpenVINO stores them.
static Layer makeConv(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t k, int64_t s, bool dw,
                      const std::vector<float>& wt, const std::vector<float>& bias, Clamp c) {
  const int64_t p = k / 2, ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  dnnl::memory::desc src({n, cin, h, w}, dt::f32, tag::nChw8c), dst({n, cout, ho, wo}, dt::f32, tag::nChw8c);
  dnnl::memory::dims wd = dw ? dnnl::memory::dims{cout, 1, 1, k, k} : dnnl::memory::dims{cout, cin, k, k};
  dnnl::memory::desc wany(wd, dt::f32, tag::any), bd({cout}, dt::f32, tag::a);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, wany, bd, dst,
                                    {s, s}, {p, p}, {p, p});
  dnnl::post_ops po;
  po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, c.lo, c.hi);
  dnnl::primitive_attr a;
  a.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd(d, a, eng);
  Layer l;
  l.prim = dnnl::convolution_forward(pd);
  l.impl = pd.impl_info_str();
  l.src = src;
  l.dst = dst;
  dnnl::memory wp({wd, dt::f32, dw ? tag::goihw : tag::oihw}, eng, const_cast<float*>(wt.data()));
  l.w = dnnl::memory(pd.weights_desc(), eng);
  dnnl::stream st(eng);
  dnnl::reorder(wp, l.w).execute(st, wp, l.w);
  st.wait();
  l.b = dnnl::memory(bd, eng, const_cast<float*>(bias.data()));
  return l;
}

static std::vector<float> rnd(size_t n, float bound, std::mt19937& g) {
  std::uniform_real_distribution<float> u(-bound, bound);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One Case: expand skipped when mid == cin, project when cout is 0.
static void bench(const char* label, int64_t n, int64_t h, int64_t w, int64_t cin, int64_t mid, int s, int64_t cout, int reps) {
  std::mt19937 g(7);
  const bool expand = mid != cin, project = cout > 0;
  const int64_t ho = (h - 1) / s + 1, wo = (w - 1) / s + 1;
  const Clamp r6{0.f, 6.f}, none{-INFINITY, INFINITY};
  auto w1 = rnd(mid * cin, std::sqrt(6.f / cin), g), b1 = rnd(mid, 0.1f, g);
  auto w2 = rnd(mid * 9, std::sqrt(6.f / 9), g), b2 = rnd(mid, 0.1f, g);
  auto w3 = rnd(std::max<int64_t>(cout, 1) * mid, std::sqrt(6.f / mid), g), b3 = rnd(std::max<int64_t>(cout, 1), 0.1f, g);
  std::vector<Layer> layers;
  if (expand) layers.push_back(makeConv(n, cin, h, w, mid, 1, 1, false, w1, b1, r6));
  layers.push_back(makeConv(n, mid, h, w, mid, 3, s, true, w2, b2, r6));
  if (project) layers.push_back(makeConv(n, mid, ho, wo, cout, 1, 1, false, w3, b3, none));
  // Activations (channel counts here are multiples of 8, so nChw8c is dense).
  auto x = rnd(n * cin * h * w, 1.f, g);
  std::vector<float> e(n * mid * h * w), d(n * mid * ho * wo), y(n * (project ? cout : mid) * ho * wo), f(y.size());
  std::vector<std::vector<float>*> bufs{&x};
  if (expand) bufs.push_back(&e);
  bufs.push_back(project ? &d : &y);
  if (project) bufs.push_back(&y);
  SepChain c;
  c.height = h, c.width = w, c.outHeight = ho, c.outWidth = wo, c.stride = s, c.expand = expand, c.project = project;
  if (expand) c.expandW = PointwiseWeights(w1.data(), b1.data(), mid, cin);
  c.depthW = DepthwiseWeights(w2.data(), b2.data(), mid);
  if (project) c.projectW = PointwiseWeights(w3.data(), b3.data(), cout, mid);
  c.expandClamp = c.depthClamp = r6;
  c.projectClamp = none;
  dnnl::stream st(eng);
  std::vector<double> tl[3], tsum, tf;
  auto now = [] { return std::chrono::steady_clock::now(); };
  for (int r = 0; r < reps; ++r) {
    auto t0 = now();
    for (size_t i = 0; i < layers.size(); ++i) {
      auto ti = now();
      auto& L = layers[i];
      dnnl::memory src(L.src, eng, bufs[i]->data()), dst(L.dst, eng, bufs[i + 1]->data());
      L.prim.execute(st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, L.w}, {DNNL_ARG_BIAS, L.b}, {DNNL_ARG_DST, dst}});
      st.wait();
      tl[i].push_back(std::chrono::duration<double, std::micro>(now() - ti).count());
    }
    tsum.push_back(std::chrono::duration<double, std::micro>(now() - t0).count());
    t0 = now();
    c.run(x.data(), nullptr, f.data(), n, omp_get_max_threads());
    tf.push_back(std::chrono::duration<double, std::micro>(now() - t0).count());
  }
  double err = 0, mx = 0;
  for (size_t i = 0; i < y.size(); ++i)
    err = std::max(err, (double)std::fabs(y[i] - f[i])), mx = std::max(mx, (double)std::fabs(y[i]));
  const double sep = median(tsum), fu = median(tf);
  std::printf("%-34s n=%ld sep %7.1f us (", label, (long)n, sep);
  for (size_t i = 0; i < layers.size(); ++i) std::printf("%s%.1f %s", i ? " + " : "", median(tl[i]), layers[i].impl.c_str());
  const double sepMin = *std::min_element(tsum.begin(), tsum.end()), fuMin = *std::min_element(tf.begin(), tf.end());
  std::printf(")  fused %7.1f us  fused/sep median %.3f min %.3f  maxerr %.2g/%.2g\n", fu, fu / sep, fuMin / sepMin, err, mx);
}

// A chain to measure: cin -> (expand to mid) -> dw stride s -> (project to cout); `div` divides
// the repetitions of the big face-detection maps.
struct Case {
  const char* label;
  int64_t h, w, cin, mid;
  int s;
  int64_t cout;
  int div;
};

// MobileNetV2 (224x224): expand + dw pairs, then the full blocks with project; face detection's
// 1x1 -> dw -> 1x1 chains (MobileNet-v1's pointwise layers around a depthwise), then its dw + 1x1
// pairs.
const Case kCases[] = {
    {"mv2 112x112 32 dw (t=1)+proj16", 112, 112, 32, 32, 1, 16, 1},
    {"mv2 112x112 16->96 +dw s2", 112, 112, 16, 96, 2, 0, 1},
    {"mv2 112x112 16->96 +dw s2 +proj24", 112, 112, 16, 96, 2, 24, 1},
    {"mv2 56x56 24->144 +dw", 56, 56, 24, 144, 1, 0, 1},
    {"mv2 56x56 24->144 +dw +proj24", 56, 56, 24, 144, 1, 24, 1},
    {"mv2 56x56 24->144 +dw s2 +proj32", 56, 56, 24, 144, 2, 32, 1},
    {"mv2 28x28 32->192 +dw", 28, 28, 32, 192, 1, 0, 1},
    {"mv2 28x28 32->192 +dw +proj32", 28, 28, 32, 192, 1, 32, 1},
    {"mv2 14x14 64->384 +dw", 14, 14, 64, 384, 1, 0, 1},
    {"mv2 14x14 64->384 +dw +proj64", 14, 14, 64, 384, 1, 64, 1},
    {"mv2 14x14 96->576 +dw +proj96", 14, 14, 96, 576, 1, 96, 1},
    {"mv2 7x7 160->960 +dw +proj160", 7, 7, 160, 960, 1, 160, 1},
    {"fd 192x336 24->56 +dw s2 +proj104", 192, 336, 24, 56, 2, 104, 4},
    {"fd 96x168 104->120 +dw s2 +proj232", 96, 168, 104, 120, 2, 232, 4},
    {"fd 48x84 232->232 +dw s2 +proj360", 48, 84, 232, 232, 2, 360, 4},
    {"fd 24x42 360->328 +dw +proj304", 24, 42, 360, 328, 1, 304, 4},
    {"fd 192x336 dw24 + 24->56", 192, 336, 24, 24, 1, 56, 4},
    {"fd 96x168 dw104 + 104->120", 96, 168, 104, 104, 1, 120, 4},
    {"fd 48x84 dw232 + 232->232", 48, 84, 232, 232, 1, 232, 4},
    {"fd 24x42 dw328 + 328->304", 24, 42, 328, 328, 1, 304, 2},
};

int main(int argc, char** argv) {
  // At least 4, so that every case runs at least once.
  const int reps = std::max(4, argc > 1 ? std::atoi(argv[1]) : 200);
  const int64_t n = argc > 2 ? std::atoi(argv[2]) : 1;
  omp_set_num_threads(argc > 3 ? std::atoi(argv[3]) : 2);
  for (const Case& c : kCases) bench(c.label, n, c.h, c.w, c.cin, c.mid, c.s, c.cout, reps / c.div);
  return 0;
}
