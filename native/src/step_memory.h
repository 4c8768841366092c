// The oneDNN memory objects and argument list a step runs its primitives with, kept from one run
// to the next: a run then only points them at its buffers. Making them anew on every run (a heap
// allocation per memory object, an argument map, the scratchpad's memory object) cost a tiny step
// 0.4-0.8 µs, about two thirds of its fixed cost.
//
// Ops are shared by the concurrent requests of a network and by the threads of a run split by
// samples, so what is kept belongs to a StepMemory of the executing context, never to the op: one
// per step of each request and each thread slice of its runs (RunContext::step). Within it, an
// entry per primitive object: ops keep a primitive per batch n and thread count (LazyCache), so an
// entry's descriptors never change.
#pragma once
#include <initializer_list>
#include <unordered_map>
#include <vector>

#include "dnnl_common.h"

namespace dynbatch {

// A memory argument that each run points at its own buffer. `md` is read only when the entry is
// made: it must not change while the primitive lives (a member of the op or of its cached entry).
struct BufferArg {
  int arg;
  const dnnl::memory::desc& md;
  void* data;
};

using MemoryArgs = std::unordered_map<int, dnnl::memory>;

class StepMemory {
 public:
  struct Entry {
    std::vector<dnnl::memory> buffers;  // one per BufferArg, in the caller's order
    std::vector<dnnl::memory> fixed;    // memories that stay from run to run (weights, post-op operands)
    std::vector<dnnl_exec_arg_t> list;  // every argument, the scratchpad last
    dnnl::memory scratchpad;            // empty when the primitive needs none
    size_t scratchpadBytes = 0;
  };
  // The entry of `prim`, or nullptr before its first run here.
  Entry* find(const dnnl::primitive& prim);
  Entry& add(const dnnl::primitive& prim, Entry entry);

 private:
  const dnnl::primitive* last_ = nullptr;  // steps mostly run one primitive at one n
  Entry* lastEntry_ = nullptr;
  std::unordered_map<const dnnl::primitive*, Entry> entries_;  // nodes never move
};

// What the two forms below share: `addFixed(fixed, args)`, unless null, adds the fixed memories.
void runPrimitive(RunContext& ctx, const dnnl::primitive& prim, std::initializer_list<BufferArg> buffers, const void* fixed,
                  void (*addFixed)(const void* fixed, MemoryArgs& args));

// Executes `prim` (built with scratchpadAttr(), and kept by the op for the program's life) with
// `buffers` at this run's data, through ctx.step: its memory objects and argument list are made on
// the primitive's first run there and only re-pointed afterwards (set_data_handle zero-pads
// blocked layouts as making them did).
inline void runPrimitive(RunContext& ctx, const dnnl::primitive& prim, std::initializer_list<BufferArg> buffers) {
  runPrimitive(ctx, prim, buffers, nullptr, nullptr);
}

// The same, and `addFixed(args)` adds memories that stay the same from run to run (constant
// weights, bias, post-op operands): called once, when the entry is made.
template <typename AddFixed>
void runPrimitive(RunContext& ctx, const dnnl::primitive& prim, std::initializer_list<BufferArg> buffers,
                  const AddFixed& addFixed) {
  runPrimitive(ctx, prim, buffers, &addFixed, [](const void* f, MemoryArgs& args) { (*static_cast<const AddFixed*>(f))(args); });
}

}  // namespace dynbatch
