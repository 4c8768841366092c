// The contract between the GPU executor (gpu_program.cc) and every GPU op (gpu/ops/*.cc):
// the same op set and OpSpec as the CPU backend (native/OPS.md), executed as OpenCL commands.
// An op is created once per program and enqueues its work on the request's own in-order queue;
// several requests may enqueue the same op at once (Kernel::launch serialises argument setting).
#pragma once
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gpu/cl_common.h"
#include "op.h"

namespace dynbatch {
namespace gpu {

// A tensor as an op sees it while enqueueing one run: its device buffer and its shape at n.
struct DevTensor {
  cl_mem mem = nullptr;
  Shape shape;
  int64_t size() const { return numel(shape); }
};

// What an op's enqueue gets from the running request.
struct Run {
  cl_command_queue queue = nullptr;
  int64_t batch = 1;
  // Request-owned temporary memory of Program::scratchBytes(), shared by all ops: they run one
  // after another on the in-order queue.
  cl_mem scratch = nullptr;
};

// Everything an op factory may use besides its OpSpec.
class Builder {
 public:
  Builder(DeviceContext& dev, cl_program program) : dev_(dev), program_(program) {}
  DeviceContext& device() { return dev_; }
  std::unique_ptr<Kernel> kernel(const char* name) { return std::make_unique<Kernel>(program_, name, dev_.info()); }
  // A read-only device copy of host data (weights in another layout, index tables).
  template <typename T>
  Buffer upload(const std::vector<T>& v) {
    return Buffer(dev_.context(), v.size() * sizeof(T), v.empty() ? nullptr : v.data());
  }

 private:
  DeviceContext& dev_;
  cl_program program_;
};

class GpuOp {
 public:
  virtual ~GpuOp() = default;
  // Bytes of scratch memory the op needs at the maximum batch.
  virtual size_t scratchBytes() const { return 0; }
  virtual void enqueue(Run& run, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) = 0;
};

using GpuOpFactory = std::function<std::unique_ptr<GpuOp>(const OpSpec&, Builder&)>;

// Registry of GPU op factories, separate from the CPU one: the same type names, other code.
// Each op lists the attributes it understands: an attribute the lowering starts emitting (a
// fused post-op, a layout) fails the build with its name instead of being silently ignored.
class GpuOpRegistry {
 public:
  static GpuOpRegistry& instance();
  void add(const std::string& type, GpuOpFactory f, std::set<std::string> attrs) {
    entries_[type] = {std::move(f), std::move(attrs)};
  }
  // Throws OpError for unknown types or attributes and wraps factory failures with the layer name.
  std::unique_ptr<GpuOp> create(const OpSpec& spec, Builder& b) const;
  std::vector<std::string> types() const;

 private:
  struct Entry {
    GpuOpFactory factory;
    std::set<std::string> attrs;
  };
  std::map<std::string, Entry> entries_;
};

struct GpuOpRegistrar {
  GpuOpRegistrar(const std::string& type, GpuOpFactory f, std::set<std::string> attrs) {
    GpuOpRegistry::instance().add(type, std::move(f), std::move(attrs));
  }
};

#define DYNBATCH_REGISTER_GPU_OP(type, factory, ...) \
  static ::dynbatch::gpu::GpuOpRegistrar dynbatch_gpu_registrar_##factory(type, factory, __VA_ARGS__)

// Kernels index with 32-bit ints (faster on GPUs): every tensor must stay below 2^31 elements.
int toInt(int64_t v, const std::string& layer);

// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const Shape& s);

// Fills a Dims8 from up to kMaxRank values.
Dims8 dims8(const std::vector<int64_t>& v, const std::string& layer);

}  // namespace gpu
}  // namespace dynbatch
