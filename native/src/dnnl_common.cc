#include "dnnl_common.h"

namespace dynbatch {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory::desc plainDesc(const Shape& s) {
  if (s.empty()) return dnnl::memory::desc({1}, dnnl::memory::data_type::f32, dnnl::memory::dims{1});
  dnnl::memory::dims strides(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    strides[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return dnnl::memory::desc(toDims(s), dnnl::memory::data_type::f32, strides);
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

}  // namespace dynbatch

namespace dynbatch {

std::vector<int64_t> spatialAttr(const OpSpec& spec, const std::string& key, size_t rank, int64_t def) {
  std::vector<int64_t> v = spec.attrs.ints(key, std::vector<int64_t>(rank, def));
  if (v.size() != rank)
    throw OpError(spec.name, "attribute '" + key + "' needs " + std::to_string(rank) + " values, got " + std::to_string(v.size()));
  return v;
}

dnnl::memory WeightsCache::get(const dnnl::memory::desc& plain, const float* data, const dnnl::memory::desc& wanted) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& e : entries_)
    if (e.first == wanted) return e.second;
  dnnl::memory dst(wanted, cpuEngine());
  dnnl::memory src(plain, cpuEngine(), const_cast<float*>(data));
  dnnl::stream s(cpuEngine());
  dnnl::reorder(src, dst).execute(s, src, dst);
  s.wait();
  entries_.emplace_back(wanted, dst);
  return dst;
}

}  // namespace dynbatch

namespace dynbatch {

dnnl::primitive_attr scratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::memory threadMemory(int slot, const dnnl::memory::desc& desc) {
  struct Buffer {
    void* data = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer bufs[4];
  if (slot < 0 || slot >= 4) throw std::runtime_error("bad thread buffer slot");
  Buffer& buf = bufs[slot];
  const size_t need = (desc.get_size() + 63) / 64 * 64;
  if (need > buf.size) {
    std::free(buf.data);
    buf.data = std::aligned_alloc(64, need);
    buf.size = buf.data ? need : 0;
    if (!buf.data) throw std::bad_alloc();
  }
  return dnnl::memory(desc, cpuEngine(), buf.data);
}

}  // namespace dynbatch

namespace dynbatch {

void runPrimitive(RunContext& ctx, const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args) {
  const dnnl_memory_desc_t* md = dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (md && md->ndims > 0) args[DNNL_ARG_SCRATCHPAD] = threadMemory(0, dnnl::memory::desc(*md));
  prim.execute(runStream(ctx), args);
}

}  // namespace dynbatch
