// Shared oneDNN helpers for the ops in ops/dnnl_*.cc: one CPU engine per process, the run's
// stream, plain (row-major) memory descriptors and a per-batch primitive cache.
#pragma once
#include <omp.h>

#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>

#include "op.h"
#include "parallel.h"

namespace dynbatch {

dnnl::engine& cpuEngine();

// memcpy on the run's threads when it is large enough to be worth waking them.
void copyBytes(void* dst, const void* src, size_t bytes);

// y = x·scale[c] + shift[c] over plain data of n·c planes of `inner` values each (y may be x), on
// the run's threads above kParallelMin values.
void channelAffinePlain(const float* x, float* y, int64_t n, int64_t c, int64_t inner, const float* scale, const float* shift);

inline dnnl::stream& runStream(RunContext& ctx) { return *static_cast<dnnl::stream*>(ctx.engineStream); }

inline dnnl::memory::dims toDims(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

// Row-major strides for a shape (oneDNN "abcd..." plain layout). A rank-0 shape becomes {1}.
dnnl::memory::desc plainDesc(const Shape& s, dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// Wraps a user pointer as a plain oneDNN memory (no copy).
inline dnnl::memory plainMemory(const Shape& s, float* data) { return dnnl::memory(plainDesc(s), cpuEngine(), data); }

// Lazily builds one entry per key (usually the run's batch n) and keeps it: oneDNN 2.6
// cannot make batch a runtime dimension for most primitives, so each n gets its own. Entries
// are also kept apart per OpenMP thread count (the executor runs small steps on one thread, and
// some primitives fix their thread team when created). Entries are never erased, so a returned
// reference stays valid while other threads insert.
template <typename Key, typename Entry>
class LazyCache {
 public:
  template <typename Make>
  Entry& get(const Key& key, Make make) {
    const std::pair<Key, int> k(key, omp_get_max_threads());
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(k);
    if (it == entries_.end()) it = entries_.emplace(k, make()).first;
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::pair<Key, int>, Entry> entries_;
};

// Numpy broadcasting of `in` to `out` (ranks right-aligned): the element stride of `in` for
// each output axis, 0 where `in` is broadcast. Throws when the shapes are incompatible.
std::vector<int64_t> broadcastStrides(const Shape& in, const Shape& out);

// Spatial format tags by tensor rank (3: ncw, 4: nchw, 5: ncdhw).
dnnl::memory::format_tag plainTag(size_t rank);

// oneDNN descriptor of a tensor of `type` (f32, or u8 for the int8 convolution's activations)
// stored in `layout` (non-plain layouts need rank 4).
dnnl::memory::desc layoutDesc(const Shape& s, Layout layout, dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// The Layout a primitive's descriptor of `type` is, if it is one of ours.
bool matchLayout(const dnnl::memory::desc& md, Layout& out, dnnl::memory::data_type type = dnnl::memory::data_type::f32);

Layout parseLayout(const std::string& name);

// Blocked layouts whose channels fill whole blocks (no padding): elementwise code may then
// treat the buffer as a flat array of numel values in any order.
bool flatCompatible(const Shape& s, Layout layout);

// True where oneDNN dispatches to AVX-512 but the cores execute a 512-bit FMA as two 256-bit
// halves (AMD Zen 4), so that AVX2 kernels reach the same FP32 peak. DYNBATCH_CONV_BLOCKS=16
// turns it off, =8 on (to compare the two on one machine).
bool halfWidthFmaPeak();

// An eltwise algorithm with its parameters.
struct Eltwise {
  dnnl::algorithm algorithm = dnnl::algorithm::undef;
  float alpha = 0.f, beta = 0.f;
};

// oneDNN eltwise for a unary op name (OPS.md) and its parameters; algorithm undef when oneDNN
// has none. Throws for unknown names.
Eltwise eltwiseFor(const std::string& op, const std::vector<float>& params);

}  // namespace dynbatch

namespace dynbatch {

// Post-operations fused into a primitive (attribute "post", see OPS.md): eltwise, `sum` (adds an
// operand shaped like the output, read in the output's layout), binary add/sub/mul/div/max/min
// with a constant per-channel or scalar operand. Operands are the op's last inputs, in the order
// their post-ops appear. (oneDNN 2.6 has a prelu post-op, but only its reference convolution
// takes it.)
class PostOps {
 public:
  PostOps() = default;
  // `channels`: the output's axis-1 size; `rank`: the output's rank.
  PostOps(const OpSpec& spec, int64_t channels, size_t rank);
  size_t operands() const { return operands_; }
  bool empty() const { return items_.empty(); }
  // Input index of the sum operand, or -1.
  int sumInput() const { return sumInput_; }
  // Scratchpad-mode attribute carrying the post-ops for a primitive writing `dst` (a concrete
  // descriptor, or one with format any).
  dnnl::primitive_attr attr(const dnnl::memory::desc& dst) const;
  // Adds the operands' memories to the arguments of a primitive built with attr(dst).
  void addArgs(std::unordered_map<int, dnnl::memory>& args, const dnnl::memory::desc& dst) const;

 private:
  enum class Kind { Eltwise, Sum, Binary };
  struct Item {
    Kind kind;
    Eltwise eltwise;
    dnnl::algorithm binary = dnnl::algorithm::undef;
    int input = -1;           // operand input index
    Shape dims;               // binary operand, broadcast to the output rank
    std::vector<float> data;  // its values, channels zero-padded to a multiple of 16
  };
  // oneDNN reads an operand whose dims equal the output's as a full tensor, which must then be
  // in the output's layout (the padded copy serves every layout of a [1, C, 1, 1] tensor).
  dnnl::memory::desc operandDesc(const Item& it, const dnnl::memory::desc& dst) const;
  std::vector<Item> items_;
  size_t operands_ = 0;
  int sumInput_ = -1;
};

}  // namespace dynbatch

namespace dynbatch {

// A per-spatial-axis attribute (strides, pads, ...) with exactly `rank` values.
std::vector<int64_t> spatialAttr(const OpSpec& spec, const std::string& key, size_t rank, int64_t def);

// Reorders constant weights into the layout a primitive chose, once per distinct layout; the
// copies are shared by content across ops and programs (shared_constants.h).
class WeightsCache {
 public:
  // `plain` describes `data` as given; the result lives as long as this cache.
  dnnl::memory get(const dnnl::memory::desc& plain, const float* data, const dnnl::memory::desc& wanted);
  // Int8 weights (`plain` of type s8).
  dnnl::memory get(const dnnl::memory::desc& plain, const int8_t* data, const dnnl::memory::desc& wanted);

 private:
  std::mutex mutex_;
  std::vector<std::pair<dnnl::memory::desc, std::shared_ptr<const dnnl::memory>>> entries_;
};

}  // namespace dynbatch

namespace dynbatch {

// Primitives use a user-provided scratchpad: oneDNN's library-managed scratchpad is tied to
// the creating thread, while ours are created on the JS thread and run on worker threads.
dnnl::primitive_attr scratchpadAttr();

// At least `bytes` bytes of buffer `slot`, owned by the calling thread (one run executes its ops
// one after another on one thread, so a buffer is never shared); valid until the thread asks for
// more from the same slot. Slot 0 is the scratchpad; ops use slots 1.. for temporaries that live
// during one op's run.
void* threadBuffer(int slot, size_t bytes);

}  // namespace dynbatch

namespace dynbatch {

// Int8 helpers shared by the int8 convolution and matmul (ops/dnnl_q*.cc).

// A FakeQuantize's per-tensor grid as u8 levels: attribute [input_low, input_high, levels, step,
// zero]; level q stands for step · (q − zero).
struct Int8Grid {
  float low = 0, high = 1, step = 1;
  int levels = 256;
  int32_t zero = 0;
};

// Reads and checks the grid in attribute `key` (the fusion pass wrote it).
Int8Grid readInt8Grid(const OpSpec& spec, const std::string& key);

// Appends to `a`'s post-ops what makes an int8 layer write the next layer's u8 levels of grid
// `next`: (y − low) / step, kept within its levels (the u8 conversion rounds).
void appendRequantize(dnnl::primitive_attr& a, const Int8Grid& next);

// FakeQuantize's level index of `count` values (the formula of fq_math.h), on the run's threads.
void quantizeToLevels(const float* v, int64_t count, const Int8Grid& g, uint8_t* q);

// Constant float weights on a symmetric int8 grid as integers w / scales[c], where element i
// belongs to channel c = (i / inner) % scales.size(). Throws when one does not fit -128..127.
std::vector<int8_t> int8Weights(const std::string& layer, const std::vector<float>& data, const std::vector<float>& scales,
                                int64_t inner);

// Without VNNI (AVX2, AVX-512 before Cascade Lake) oneDNN multiplies u8·s8 pairs into a saturating
// s16 (vpmaddubsw): a pair reaches (levels − 1) · 2 · max|w|, which must stay within 32767 or the
// result is wrong. Throws "<layer>: int8 <what> unavailable: ..." (the fusion pass then keeps the
// layer FP32) when `impl` would saturate with these weights; 7-bit weights pass.
void checkInt8Saturation(const std::string& layer, const std::string& what, const std::string& impl, int levels,
                         const std::vector<int8_t>& weights);

}  // namespace dynbatch
