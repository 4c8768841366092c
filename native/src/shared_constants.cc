#include "shared_constants.h"

#include <cstring>

namespace dynbatch {

ContentHash contentHash(const void* data, size_t bytes) {
  // Two lanes over 8-byte words, mixed differently (multiply-rotate, multiply-xorshift), finished
  // with the byte count; a tail shorter than a word is zero-padded.
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0xc2b2ae3d27d4eb4fULL;
  auto step = [&](uint64_t w) {
    a = (a ^ w) * 0x87c37b91114253d5ULL;
    a = (a << 31) | (a >> 33);
    b = (b + w) * 0x4cf5ad432745937fULL;
    b ^= b >> 29;
  };
  size_t i = 0;
  for (uint64_t w; i + 8 <= bytes; i += 8) {
    std::memcpy(&w, p + i, 8);
    step(w);
  }
  if (i < bytes) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, bytes - i);
    step(w);
  }
  auto fmix = [](uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
  };
  return {fmix(a ^ bytes), fmix(b + bytes)};
}

std::atomic<size_t>& sharedConstantsCounter() {
  static std::atomic<size_t> count{0};
  return count;
}

size_t sharedConstantsMade() { return sharedConstantsCounter().load(); }

std::shared_ptr<const std::vector<float>> sharedFloats(std::vector<float>&& v) {
  // Never destroyed (a value's release never touches it).
  static auto* registry = new SharedConstants<ContentHash, std::vector<float>>();
  const size_t bytes = v.size() * sizeof(float);
  return registry->get(
      contentHash(v.data(), bytes), [&] { return std::move(v); },
      [&](const std::vector<float>& kept) { return kept.size() == v.size() && std::memcmp(kept.data(), v.data(), bytes) == 0; });
}

}  // namespace dynbatch
