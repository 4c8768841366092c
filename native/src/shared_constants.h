// Constants shared by content across the ops and programs of the process: one model loaded for
// several batches (the dynamic network, a static one per batch, a batch-1 one) keeps one copy of
// each prepared constant (reordered or packed weights) instead of one per program, so its
// programs run from the same cached bytes. A copy is freed with its last holder.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace dynbatch {

// Two independent 64-bit hashes of `bytes` bytes.
struct ContentHash {
  uint64_t a = 0, b = 0;
  bool operator==(const ContentHash& o) const { return a == o.a && b == o.b; }
};
ContentHash contentHash(const void* data, size_t bytes);

// Shared constants made so far in the process, over every registry: a load that finds all its
// constants shared leaves it unchanged (for tests; garbage collection does not lower it).
size_t sharedConstantsMade();
// The count sharedConstantsMade reads; every registry adds what it makes.
std::atomic<size_t>& sharedConstantsCounter();

// Values of type V by key K (K has ==): get() returns the live value of an equal key that `same`
// accepts, or makes, keeps and returns a new one.
template <class K, class V>
class SharedConstants {
 public:
  template <class Make, class Same>
  std::shared_ptr<const V> get(const K& key, Make make, Same same) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& e : entries_)
      if (e.first == key)
        if (auto held = e.second.lock(); held && same(*held)) return held;
    prune();
    std::shared_ptr<const V> value = std::make_shared<const V>(make());
    ++sharedConstantsCounter();
    entries_.emplace_back(key, value);
    return value;
  }

 private:
  void prune() {
    std::vector<std::pair<K, std::weak_ptr<const V>>> live;
    for (auto& e : entries_)
      if (!e.second.expired()) live.push_back(std::move(e));
    entries_.swap(live);
  }
  std::mutex mutex_;
  std::vector<std::pair<K, std::weak_ptr<const V>>> entries_;
};

// `v` shared by content: the live vector of the same bytes (NaNs included), or `v` itself, kept.
std::shared_ptr<const std::vector<float>> sharedFloats(std::vector<float>&& v);

}  // namespace dynbatch
