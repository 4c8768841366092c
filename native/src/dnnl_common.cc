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
