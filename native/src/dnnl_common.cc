#include "dnnl_common.h"

#include <cpuid.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fq_math.h"
#include "shared_constants.h"

namespace dynbatch {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory::desc plainDesc(const Shape& s, dnnl::memory::data_type type) {
  if (s.empty()) return dnnl::memory::desc({1}, type, dnnl::memory::dims{1});
  dnnl::memory::dims strides(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    strides[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return dnnl::memory::desc(toDims(s), type, strides);
}

std::vector<int64_t> broadcastStrides(const Shape& in, const Shape& out) {
  if (in.size() > out.size()) throw std::runtime_error("operand rank exceeds output rank");
  std::vector<int64_t> strides(out.size(), 0);
  int64_t acc = 1;
  size_t off = out.size() - in.size();
  for (size_t i = in.size(); i-- > 0;) {
    if (in[i] == out[i + off]) {
      strides[i + off] = in[i] == 1 ? 0 : acc;
    } else if (in[i] != 1) {
      throw std::runtime_error("shape mismatch for broadcasting at axis " + std::to_string(i + off));
    }
    acc *= in[i];
  }
  return strides;
}

dnnl::memory::format_tag plainTag(size_t rank) {
  using tag = dnnl::memory::format_tag;
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    case 5: return tag::abcde;
    case 6: return tag::abcdef;
    default: throw std::runtime_error("unsupported tensor rank " + std::to_string(rank));
  }
}

void copyBytes(void* dst, const void* src, size_t bytes) {
  constexpr size_t kChunk = 256 * 1024;
  const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
#pragma omp parallel for if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t b = static_cast<size_t>(c) * kChunk;
    std::memcpy(static_cast<char*>(dst) + b, static_cast<const char*>(src) + b, std::min(kChunk, bytes - b));
  }
}

void channelAffinePlain(const float* x, float* y, int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift) {
#pragma omp parallel for if (n * c * inner > kParallelMin)
  for (int64_t nc = 0; nc < n * c; ++nc) {
    const float sa = scale[nc % c], sb = shift[nc % c];
    const float* px = x + nc * inner;
    float* py = y + nc * inner;
#pragma omp simd
    for (int64_t i = 0; i < inner; ++i) py[i] = px[i] * sa + sb;
  }
}

dnnl::memory::desc layoutDesc(const Shape& s, Layout layout, dnnl::memory::data_type type) {
  using tag = dnnl::memory::format_tag;
  if (layout == Layout::Plain) return plainDesc(s, type);
  if (s.size() != 4) throw std::runtime_error(std::string("layout ") + layoutName(layout) + " needs a 4-D tensor");
  const tag t = layout == Layout::Nhwc ? tag::acdb : layout == Layout::NChw8c ? tag::aBcd8b : tag::aBcd16b;
  return dnnl::memory::desc(toDims(s), type, t);
}

namespace {

// Descriptor equality with every stride compared: oneDNN's == skips the strides of axes of size 1,
// so an nhwc 1x1 map equals a plain one, yet a primitive built for one may refuse the other's
// strides and fall back to its reference kernel.
bool sameStrides(const dnnl::memory::desc& a, const dnnl::memory::desc& b) {
  if (!(a == b) || a.data.format_kind != dnnl_blocked) return a == b;
  const auto& x = a.data.format_desc.blocking;
  const auto& y = b.data.format_desc.blocking;
  for (int d = 0; d < a.data.ndims; ++d)
    if (x.strides[d] != y.strides[d]) return false;
  return true;
}

}  // namespace

bool matchLayout(const dnnl::memory::desc& md, Layout& out, dnnl::memory::data_type type) {
  if (md.data_type() != type) return false;
  const auto d = md.dims();
  const Shape s(d.begin(), d.end());
  for (Layout l : {Layout::Plain, Layout::Nhwc, Layout::NChw8c, Layout::NChw16c}) {
    if (l != Layout::Plain && s.size() != 4) continue;
    if (sameStrides(md, layoutDesc(s, l, type))) {
      out = l;
      return true;
    }
  }
  return false;
}

Layout parseLayout(const std::string& name) {
  for (Layout l : {Layout::Plain, Layout::Nhwc, Layout::NChw8c, Layout::NChw16c})
    if (name == layoutName(l)) return l;
  throw std::runtime_error("unknown layout '" + name + "'");
}

bool flatCompatible(const Shape& s, Layout layout) {
  return layout == Layout::Plain || layout == Layout::Nhwc || layoutBytes(s, layout) == layoutBytes(s, Layout::Plain);
}

bool halfWidthFmaPeak() {
  if (const char* env = std::getenv("DYNBATCH_CONV_BLOCKS")) return std::string(env) == "8";
  static const bool zen4 = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d) || b != 0x68747541 /* "Auth"enticAMD */) return false;
    __get_cpuid(1, &a, &b, &c, &d);
    const unsigned family = ((a >> 8) & 0xf) + ((a >> 20) & 0xff);
    // Family 19h: Zen 3 (no AVX-512) and Zen 4; Zen 5 (1Ah) has full-width AVX-512 units.
    return family == 0x19;
  }();
  const int avx512 = dnnl_cpu_isa_avx512_core;  // ISA values are sets of feature bits
  return zen4 && (static_cast<int>(dnnl::get_effective_cpu_isa()) & avx512) == avx512;
}

Eltwise eltwiseFor(const std::string& op, const std::vector<float>& p) {
  using alg = dnnl::algorithm;
  auto at = [&](size_t i, float def) { return i < p.size() ? p[i] : def; };
  if (op == "relu") return {alg::eltwise_relu, 0.f, 0.f};
  if (op == "leakyrelu") return {alg::eltwise_relu, at(0, 0.f), 0.f};
  if (op == "sigmoid") return {alg::eltwise_logistic};
  if (op == "tanh") return {alg::eltwise_tanh};
  if (op == "exp") return {alg::eltwise_exp};
  if (op == "log") return {alg::eltwise_log};
  if (op == "abs") return {alg::eltwise_abs};
  if (op == "sqrt") return {alg::eltwise_sqrt};
  if (op == "neg") return {alg::eltwise_linear, -1.f, 0.f};
  if (op == "elu") return {alg::eltwise_elu, at(0, 1.f), 0.f};
  if (op == "clamp") return {alg::eltwise_clip_v2, at(0, 0.f), at(1, 0.f)};
  if (op == "hswish") return {alg::eltwise_hardswish};
  if (op == "swish") return {alg::eltwise_swish, at(0, 1.f), 0.f};
  if (op == "gelu") return {alg::eltwise_gelu_erf};
  if (op == "gelu_tanh") return {alg::eltwise_gelu_tanh};
  if (op == "softplus") return {alg::eltwise_soft_relu};
  if (op == "mish") return {alg::eltwise_mish};
  // Own loops: oneDNN 2.6 has no algorithm for these (erf only inside gelu_erf).
  if (op == "hsigmoid" || op == "hardsigmoid" || op == "floor" || op == "ceil" || op == "erf") return {};
  throw std::runtime_error("unknown unary op '" + op + "'");
}

}  // namespace dynbatch

namespace dynbatch {

namespace {

std::vector<std::string> splitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

PostOps::PostOps(const OpSpec& spec, int64_t channels, size_t rank) {
  const std::string text = spec.attrs.str("post", "");
  if (text.empty()) return;
  static const std::map<std::string, dnnl::algorithm> binaries = {
      {"add", dnnl::algorithm::binary_add}, {"sub", dnnl::algorithm::binary_sub}, {"mul", dnnl::algorithm::binary_mul},
      {"div", dnnl::algorithm::binary_div}, {"max", dnnl::algorithm::binary_max}, {"min", dnnl::algorithm::binary_min}};
  const auto parts = splitOn(text, ';');
  for (const std::string& part : parts) {
    const auto fields = splitOn(part, ':');
    Item it;
    const std::string& name = fields[0];
    if (name == "sum") {
      if (sumInput_ >= 0) throw std::runtime_error("post-ops: at most one sum");
      it.kind = Kind::Sum;
    } else if (binaries.count(name)) {
      it.kind = Kind::Binary;
      it.binary = binaries.at(name);
    } else {
      it.kind = Kind::Eltwise;
      std::vector<float> params;
      for (size_t i = 1; i < fields.size(); ++i) params.push_back(std::stof(fields[i]));
      it.eltwise = eltwiseFor(name, params);
      if (it.eltwise.algorithm == dnnl::algorithm::undef)
        throw std::runtime_error("post-op '" + name + "' has no oneDNN eltwise");
    }
    if (it.kind != Kind::Eltwise) ++operands_;
    items_.push_back(it);
  }
  if (spec.inputs.size() < operands_) throw std::runtime_error("post-ops need " + std::to_string(operands_) + " operand inputs");
  int next = static_cast<int>(spec.inputs.size() - operands_);
  const Shape& out = spec.outputs.at(0)->maxShape;
  for (Item& it : items_) {
    if (it.kind == Kind::Eltwise) continue;
    it.input = next++;
    const Shape& s = spec.inputs[it.input]->maxShape;
    if (it.kind == Kind::Sum) {
      if (s != out) throw std::runtime_error("post-op sum operand must have the output's shape");
      sumInput_ = it.input;
      continue;
    }
    // Per-channel ([C], [1,C,1,1], [C,1,1]) or one value for the whole output.
    it.dims.assign(rank, 1);
    if (numel(s) != 1) {
      if (numel(s) != channels || rank < 2) throw std::runtime_error("post-op operand must have one value or one per channel");
      it.dims[1] = channels;
    }
    if (!spec.inputs[it.input]->constant) throw std::runtime_error("post-op binary operands must be constants");
    it.data = spec.inputs[it.input]->data;
    it.data.resize((it.data.size() + 15) / 16 * 16, 0.f);
  }
}

dnnl::memory::desc PostOps::operandDesc(const Item& it, const dnnl::memory::desc& dst) const {
  const bool concrete = dst.data.format_kind != dnnl_format_kind_any;
  if (concrete && dst.dims() == dnnl::memory::dims(it.dims.begin(), it.dims.end())) return dst;
  return plainDesc(it.dims);
}

dnnl::primitive_attr PostOps::attr(const dnnl::memory::desc& dst) const {
  dnnl::primitive_attr a = scratchpadAttr();
  if (items_.empty()) return a;
  dnnl::post_ops po;
  for (const Item& it : items_) {
    switch (it.kind) {
      case Kind::Eltwise: po.append_eltwise(1.f, it.eltwise.algorithm, it.eltwise.alpha, it.eltwise.beta); break;
      case Kind::Sum: po.append_sum(1.f); break;
      case Kind::Binary: po.append_binary(it.binary, operandDesc(it, dst)); break;
    }
  }
  a.set_post_ops(po);
  return a;
}

void PostOps::addArgs(std::unordered_map<int, dnnl::memory>& args, const dnnl::memory::desc& dst) const {
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& it = items_[i];
    if (it.kind == Kind::Binary)
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(i)) | DNNL_ARG_SRC_1] =
          dnnl::memory(operandDesc(it, dst), cpuEngine(), const_cast<float*>(it.data.data()));
  }
}

}  // namespace dynbatch

namespace dynbatch {

std::vector<int64_t> spatialAttr(const OpSpec& spec, const std::string& key, size_t rank, int64_t def) {
  std::vector<int64_t> v = spec.attrs.ints(key, std::vector<int64_t>(rank, def));
  if (v.size() != rank)
    throw OpError(spec.name,
                  "attribute '" + key + "' needs " + std::to_string(rank) + " values, got " + std::to_string(v.size()));
  return v;
}

namespace {

struct WeightsKey {
  ContentHash content;
  dnnl::memory::desc plain, wanted;
  bool operator==(const WeightsKey& o) const { return content == o.content && plain == o.plain && wanted == o.wanted; }
};

// `data` (described by `plain`) reordered into a new memory of `wanted`.
dnnl::memory reordered(const dnnl::memory::desc& plain, const void* data, const dnnl::memory::desc& wanted) {
  dnnl::memory dst(wanted, cpuEngine());
  dnnl::memory src(plain, cpuEngine(), const_cast<void*>(data));
  dnnl::stream s(cpuEngine());
  // On one thread: this runs while a program compiles, on the JS thread, which must never open an
  // OpenMP team (see sample_team.h). The reorder runs once per weight.
  struct OneThread {
    const int threads = omp_get_max_threads();
    OneThread() { omp_set_num_threads(1); }
    ~OneThread() { omp_set_num_threads(threads); }
  } one;
  dnnl::reorder(src, dst).execute(s, src, dst);
  s.wait();
  return dst;
}

// `data` (described by `plain`) reordered into `wanted`, shared with every op of the process that
// asks for the same content in the same layout (shared_constants.h).
std::shared_ptr<const dnnl::memory> sharedWeights(const dnnl::memory::desc& plain, const void* data,
                                                  const dnnl::memory::desc& wanted) {
  // Never destroyed (a value's release never touches it).
  static auto* registry = new SharedConstants<WeightsKey, dnnl::memory>();
  return registry->get(
      WeightsKey{contentHash(data, plain.get_size()), plain, wanted}, [&] { return reordered(plain, data, wanted); },
      // The hash is no proof: a match is reordered again and compared byte for byte (a reorder is
      // deterministic, padding included), which is what loading cost before the sharing.
      [&](const dnnl::memory& kept) {
        const dnnl::memory mine = reordered(plain, data, wanted);
        return std::memcmp(mine.get_data_handle(), kept.get_data_handle(), wanted.get_size()) == 0;
      });
}

}  // namespace

dnnl::memory WeightsCache::get(const dnnl::memory::desc& plain, const float* data, const dnnl::memory::desc& wanted) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& e : entries_)
    if (e.first == wanted) return *e.second;
  entries_.emplace_back(wanted, sharedWeights(plain, data, wanted));
  return *entries_.back().second;
}

dnnl::memory WeightsCache::get(const dnnl::memory::desc& plain, const int8_t* data, const dnnl::memory::desc& wanted) {
  // The pointer only goes to oneDNN, which reads it as `plain`'s data type.
  return get(plain, reinterpret_cast<const float*>(data), wanted);
}

}  // namespace dynbatch

namespace dynbatch {

dnnl::primitive_attr scratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void* threadBuffer(int slot, size_t bytes) {
  struct Buffer {
    void* data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer bufs[4];
  if (slot < 0 || slot >= 4) throw std::runtime_error("bad thread buffer slot");
  Buffer& buf = bufs[slot];
  const size_t need = (bytes + 63) / 64 * 64;
  if (need > buf.size) {
    std::free(buf.data);
    buf.data = std::aligned_alloc(64, need);
    buf.size = buf.data ? need : 0;
    if (!buf.data) throw std::bad_alloc();
  }
  return buf.data;
}

}  // namespace dynbatch

namespace dynbatch {

Int8Grid readInt8Grid(const OpSpec& spec, const std::string& key) {
  const auto g = spec.attrs.floats(key);
  if (g.size() != 5) throw OpError(spec.name, key + " needs [input_low, input_high, levels, step, zero]");
  Int8Grid r;
  r.low = g[0];
  r.high = g[1];
  r.levels = static_cast<int>(g[2]);
  r.step = g[3];
  r.zero = static_cast<int32_t>(g[4]);
  if (r.levels < 2 || r.levels > 256 || !(r.high > r.low) || !(r.step > 0) || r.zero < 0 || r.zero >= r.levels)
    throw OpError(spec.name, key + ": the activation grid cannot be expressed as u8");
  return r;
}

namespace {

// quantizeToLevels' loop, also compiled for AVX-512 and AVX2 (the addon's baseline is SSE2): with
// AVX-512 it takes 0.19 instead of 0.97 ns per element, which decides whether int8 pays off on a
// layer with few MACs per input value (a depthwise convolution).
__attribute__((target_clones("avx512f", "avx2", "default"))) void levelsOf(const float* v, int64_t count, float lo, float hi,
                                                                           float steps, uint8_t* q) {
  // Through int32: a float → u8 conversion does not vectorize.
  for (int64_t i = 0; i < count; ++i) q[i] = static_cast<uint8_t>(static_cast<int32_t>(fakeQuantizeLevel(v[i], lo, hi, steps)));
}

}  // namespace

void appendRequantize(dnnl::primitive_attr& a, const Int8Grid& next) {
  const float steps = static_cast<float>(next.levels - 1);
  const float step = (next.high - next.low) / steps;
  dnnl::post_ops po = a.get_post_ops();
  po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / step, -next.low / step);
  po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, steps);
  a.set_post_ops(po);
}

void quantizeToLevels(const float* v, int64_t count, const Int8Grid& g, uint8_t* q) {
  constexpr int64_t kChunk = 4096;
  const int64_t chunks = (count + kChunk - 1) / kChunk;
  const float steps = static_cast<float>(g.levels - 1);
#pragma omp parallel for if (count > kParallelMin)
  for (int64_t c = 0; c < chunks; ++c)
    levelsOf(v + c * kChunk, std::min(kChunk, count - c * kChunk), g.low, g.high, steps, q + c * kChunk);
}

std::vector<int8_t> int8Weights(const std::string& layer, const std::vector<float>& data, const std::vector<float>& scales,
                                int64_t inner) {
  const int64_t channels = static_cast<int64_t>(scales.size());
  for (float s : scales)
    if (!(s > 0)) throw OpError(layer, "int8 weight scales must be positive");
  std::vector<int8_t> out(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    const float v = std::nearbyint(data[i] / scales[(static_cast<int64_t>(i) / inner) % channels]);
    if (v < -128 || v > 127) throw OpError(layer, "int8 weights do not fit -128..127 at their scale");
    out[i] = static_cast<int8_t>(v);
  }
  return out;
}

void checkInt8Saturation(const std::string& layer, const std::string& what, const std::string& impl, int levels,
                         const std::vector<int8_t>& weights) {
  for (const char* safe : {"vnni", "amx", "bf16"})
    if (impl.find(safe) != std::string::npos) return;
  // gemm-based kernels ("gemm:jit") name no ISA: they use VNNI where oneDNN may.
  const unsigned isa = dnnl_get_effective_cpu_isa();
  auto allows = [&](unsigned x) { return (isa & x) == x; };
  const bool named = impl.find("avx") != std::string::npos || impl.find("sse") != std::string::npos;
  if (!named && (allows(dnnl_cpu_isa_avx512_core_vnni) || allows(dnnl_cpu_isa_avx2_vnni))) return;
  int maxW = 0;
  for (int8_t v : weights) maxW = std::max(maxW, std::abs(static_cast<int>(v)));
  if ((levels - 1) * 2 * maxW > 32767)
    throw OpError(layer, "int8 " + what + " unavailable: " + impl + " has no VNNI and u8 x s8 pairs of " +
                             std::to_string(levels) + " levels and weights up to " + std::to_string(maxW) + " would saturate");
}

}  // namespace dynbatch
