#include "step_memory.h"

#include <stdexcept>

namespace dynbatch {

StepMemory::Entry* StepMemory::find(const dnnl::primitive& prim) {
  if (last_ == &prim) return lastEntry_;
  auto it = entries_.find(&prim);
  if (it == entries_.end()) return nullptr;
  last_ = &prim;
  return lastEntry_ = &it->second;
}

StepMemory::Entry& StepMemory::add(const dnnl::primitive& prim, Entry entry) {
  Entry& e = entries_[&prim] = std::move(entry);
  last_ = &prim;
  return *(lastEntry_ = &e);
}

namespace {

StepMemory::Entry makeEntry(const dnnl::primitive& prim, std::initializer_list<BufferArg> buffers, const void* fixed,
                            void (*addFixed)(const void*, MemoryArgs&)) {
  // The list holds the memories' C handles, which stay when the Entry moves into the StepMemory.
  StepMemory::Entry e;
  for (const BufferArg& b : buffers) {
    e.buffers.emplace_back(b.md, cpuEngine(), b.data);
    e.list.push_back({b.arg, e.buffers.back().get()});
  }
  if (addFixed) {
    MemoryArgs args;
    addFixed(fixed, args);
    for (auto& [arg, memory] : args) {
      e.fixed.push_back(memory);
      e.list.push_back({arg, memory.get()});
    }
  }
  const dnnl_memory_desc_t* md = dnnl_primitive_desc_query_md(prim.get_primitive_desc(), dnnl_query_scratchpad_md, 0);
  if (md && md->ndims > 0) {
    const dnnl::memory::desc desc(*md);
    e.scratchpadBytes = desc.get_size();
    e.scratchpad = dnnl::memory(desc, cpuEngine(), threadBuffer(0, e.scratchpadBytes));
    e.list.push_back({DNNL_ARG_SCRATCHPAD, e.scratchpad.get()});
  }
  return e;
}

}  // namespace

void runPrimitive(RunContext& ctx, const dnnl::primitive& prim, std::initializer_list<BufferArg> buffers, const void* fixed,
                  void (*addFixed)(const void*, MemoryArgs&)) {
  if (!ctx.step) throw std::logic_error("a primitive ran without the step's memory in its run context");
  StepMemory::Entry* e = ctx.step->find(prim);
  if (!e) {
    e = &ctx.step->add(prim, makeEntry(prim, buffers, fixed, addFixed));
  } else {
    if (buffers.size() != e->buffers.size()) throw std::logic_error("a primitive ran with another number of buffer arguments");
    size_t i = 0;
    for (const BufferArg& b : buffers) e->buffers[i++].set_data_handle(b.data);
    // The thread that runs this context may differ from run to run (the JS thread, the Runner, a
    // thread of the sample team), and so may its scratchpad.
    if (e->scratchpadBytes) e->scratchpad.set_data_handle(threadBuffer(0, e->scratchpadBytes));
  }
  dnnl::error::wrap_c_api(
      dnnl_primitive_execute(prim.get(), runStream(ctx).get(), static_cast<int>(e->list.size()), e->list.data()),
      "could not execute a primitive");
}

}  // namespace dynbatch
