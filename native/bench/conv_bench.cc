// Convolution micro-benchmark against oneDNN, outside the addon: for each shape, every
// implementation oneDNN offers (primitive_desc::next_impl) in each activation layout, with the
// post-ops the CPU plugin fuses, on 2 threads, on 1, and as two 1-thread primitives each computing
// half the output channels side by side. Candidates run interleaved, so a busy moment on a shared
// machine hits them all; the median of each is printed, fastest first.
//
//   g++ -O2 -fopenmp -std=c++17 native/bench/conv_bench.cc -ldnnl -o /tmp/conv_bench
//   /tmp/conv_bench                      # head-pose-estimation-adas-0001's convolutions at n = 1
//   N=16 LAYOUTS=nhwc,16c POSTS=13 THREADS=1 /tmp/conv_bench
//   SHAPES="a:16,24,32,3,1,1;b:64,6,128,3,1,1" /tmp/conv_bench   # name:IC,H(=W),OC,K,stride,pad
//   ONEDNN_MAX_CPU_ISA=AVX2 /tmp/conv_bench
//
// Environment: N (batch, 1), LAYOUTS (of nhwc, 16c, 8c, any, plainsrc: the plain input read by a
// blocked kernel; default nhwc,16c,8c), POSTS (digits: 0 none, 1 relu, 2 relu + per-channel mul and
// add, 3 relu + per-channel add; default 1), THREADS (2, 1 or 21 for both; default 2), SPLIT=1
// adds the two-primitive split, REPS (timed rounds, 100).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

struct Shape {
  std::string name;
  int ic, h, oc, k, s, p;
  int o() const { return (h + 2 * p - k) / s + 1; }
};

struct Conv {
  dnnl::convolution_forward prim;
  std::unordered_map<int, memory> args;
  std::string impl;
};

std::string env(const char* name, const char* def) {
  const char* v = std::getenv(name);
  return v ? v : def;
}

void fill(const memory& m) {
  float* p = static_cast<float*>(m.get_data_handle());
  const size_t count = m.get_desc().get_size() / sizeof(float);
  for (size_t i = 0; i < count; ++i) p[i] = static_cast<float>((i * 7919) % 13) * 0.1f - 0.6f;
}

// The implementation `skip` steps down oneDNN's list for `s` in layout `layout` (the source plain
// when `plainSrc`), computing output channels [0, oc), made for `threads` threads; null past the end.
std::unique_ptr<Conv> make(const Shape& s, int n, tag layout, bool plainSrc, int post, int skip, int threads, int oc) {
  const memory::desc src({n, s.ic, s.h, s.h}, dt::f32, plainSrc ? tag::nchw : layout);
  const memory::desc dst({n, oc, s.o(), s.o()}, dt::f32, layout);
  const memory::desc w({oc, s.ic, s.k, s.k}, dt::f32, tag::any), b({oc}, dt::f32, tag::a);
  const memory::desc channel({1, oc, 1, 1}, dt::f32, tag::abcd);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, w, b, dst,
                                    {s.s, s.s}, {s.p, s.p}, {s.p, s.p});
  dnnl::post_ops po;
  if (post >= 1) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  if (post == 2) po.append_binary(dnnl::algorithm::binary_mul, channel);
  if (post >= 2) po.append_binary(dnnl::algorithm::binary_add, channel);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  omp_set_num_threads(threads);  // oneDNN splits the work for the threads it sees when created
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = dnnl::convolution_forward::primitive_desc(d, attr, engine());
  } catch (const dnnl::error&) {
    return nullptr;
  }
  for (int i = 0; i < skip; ++i)
    if (!pd.next_impl()) return nullptr;
  auto c = std::make_unique<Conv>();
  c->impl = pd.impl_info_str();
  c->prim = dnnl::convolution_forward(pd);
  memory sm(pd.src_desc(), engine()), wm(pd.weights_desc(), engine()), bm(pd.bias_desc(), engine()), dm(pd.dst_desc(), engine());
  for (const memory& m : {sm, wm, bm}) fill(m);
  c->args = {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, dm}};
  for (int i = 1; i <= (post == 2 ? 2 : post == 3 ? 1 : 0); ++i) {
    memory m(channel, engine());
    fill(m);
    c->args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1] = m;
  }
  return c;
}

struct Candidate {
  std::string label;
  std::function<void()> run;
  std::vector<double> times;
};

double micros() { return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::vector<Shape> shapes() {
  const std::string text = env("SHAPES", "");
  if (text.empty())
    return {{"conv1", 3, 60, 32, 3, 1, 1},   {"pool1", 32, 60, 16, 3, 2, 1},   {"conv2", 16, 30, 64, 3, 1, 1},
            {"conv3", 64, 15, 128, 3, 1, 1}, {"pool3", 128, 15, 64, 3, 2, 1},  {"conv4", 64, 8, 128, 3, 1, 1},
            {"conv5", 128, 4, 256, 3, 1, 1}, {"conv_fm", 256, 4, 512, 3, 1, 0}};
  std::vector<Shape> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find(';', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    Shape s{};
    char name[64] = {0};
    if (std::sscanf(item.c_str(), "%63[^:]:%d,%d,%d,%d,%d,%d", name, &s.ic, &s.h, &s.oc, &s.k, &s.s, &s.p) != 7) {
      std::fprintf(stderr, "bad shape '%s' (name:IC,H,OC,K,stride,pad)\n", item.c_str());
      std::exit(2);
    }
    s.name = name;
    out.push_back(s);
  }
  return out;
}

}  // namespace

int main() {
  const int n = std::stoi(env("N", "1")), reps = std::stoi(env("REPS", "100"));
  const std::string layouts = env("LAYOUTS", "nhwc,16c,8c"), posts = env("POSTS", "1"), threads = env("THREADS", "2");
  const bool split = env("SPLIT", "") == "1";
  const std::vector<std::pair<std::string, tag>> known = {
      {"nhwc", tag::nhwc}, {"16c", tag::nChw16c}, {"8c", tag::nChw8c}, {"any", tag::any}, {"plainsrc", tag::any}};
  dnnl::stream stream(engine());
  for (const Shape& s : shapes()) {
    std::vector<std::unique_ptr<Conv>> convs;
    std::vector<Candidate> cands;
    std::vector<std::string> seen;
    for (char postDigit : posts)
      for (const auto& [name, layout] : known) {
        if (layouts.find(name) == std::string::npos) continue;
        const int post = postDigit - '0';
        for (char t : threads) {
          const int thr = t - '0';
          for (int skip = 0;; ++skip) {
            auto c = make(s, n, layout, name == "plainsrc", post, skip, thr, s.oc);
            if (!c) break;
            const std::string label = "post" + std::to_string(post) + " " + name + " t" + std::to_string(thr) + " " + c->impl;
            if (c->impl.rfind("ref", 0) == 0 || std::find(seen.begin(), seen.end(), label) != seen.end()) continue;
            seen.push_back(label);
            Conv* p = c.get();
            cands.push_back({label, [p, thr, &stream] {
                               omp_set_num_threads(thr);
                               p->prim.execute(stream, p->args);
                               stream.wait();
                             }});
            convs.push_back(std::move(c));
          }
        }
        if (!split || layout == tag::any) continue;
        auto a = make(s, n, layout, false, post, 0, 1, s.oc / 2), b = make(s, n, layout, false, post, 0, 1, s.oc / 2);
        if (!a || !b || a->impl.rfind("ref", 0) == 0) continue;
        Conv* halves[2] = {a.get(), b.get()};
        cands.push_back({"post" + std::to_string(post) + " " + name + " 2 x t1 halves " + a->impl, [halves] {
                           static dnnl::stream streams[2] = {dnnl::stream(engine()), dnnl::stream(engine())};
                           omp_set_num_threads(2);
#pragma omp parallel num_threads(2)
                           {
                             const int i = omp_get_thread_num();
                             halves[i]->prim.execute(streams[i], halves[i]->args);
                             streams[i].wait();
                           }
                         }});
        convs.push_back(std::move(a));
        convs.push_back(std::move(b));
      }
    for (Candidate& c : cands)
      for (int i = 0; i < 3; ++i) c.run();
    for (int r = 0; r < reps; ++r)
      for (Candidate& c : cands) {
        const double start = micros();
        c.run();
        c.times.push_back(micros() - start);
      }
    const double flops = 2.0 * n * s.oc * s.o() * s.o() * s.ic * s.k * s.k;
    std::printf("%s n=%d: %d->%d channels, %dx%d -> %dx%d, %.1f MFLOP\n", s.name.c_str(), n, s.ic, s.oc, s.h, s.h, s.o(), s.o(),
                flops / 1e6);
    for (Candidate& c : cands) std::sort(c.times.begin(), c.times.end());
    std::sort(cands.begin(), cands.end(),
              [](const Candidate& a, const Candidate& b) { return a.times[a.times.size() / 2] < b.times[b.times.size() / 2]; });
    for (const Candidate& c : cands) {
      const double med = c.times[c.times.size() / 2];
      std::printf("  %9.1f us %7.1f GFLOP/s  %s\n", med, flops / med / 1e3, c.label.c_str());
    }
  }
}
