// OpenCL plumbing for the GPU backend: typed errors, device discovery, one context per device
// for the whole process (our kernels and CLBlast's both cache compiled programs per context),
// device buffers and thread-safe kernel launches.
#pragma once
#include <CL/cl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace dynbatch {
namespace gpu {

// An OpenCL failure. `kind` selects the typed JS error (kernel/errors.ts GpuError codes).
class ClError : public std::runtime_error {
 public:
  enum class Kind { Unavailable, Build, OutOfMemory, Runtime };
  ClError(Kind kind, cl_int status, const std::string& msg, std::string buildLog = "")
      : std::runtime_error(msg), kind(kind), status(status), buildLog(std::move(buildLog)) {}
  Kind kind;
  cl_int status;
  std::string buildLog;
};

// "CL_OUT_OF_RESOURCES (-5)" and the like.
std::string statusName(cl_int status);

// Throws ClError for a failed status; allocation failures become Kind::OutOfMemory.
void check(cl_int status, const std::string& what);

struct DeviceInfo {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  std::string name, vendor, version, driver, platformName;
  std::string type;  // "GPU", "CPU", "ACCELERATOR", "OTHER"
  uint64_t globalMemBytes = 0, maxAllocBytes = 0;
  uint32_t computeUnits = 0;
  size_t maxWorkGroupSize = 1;
  bool fp16 = false;
};

// Every OpenCL device of every platform, in platform order. No ICD, no platform
// (CL_PLATFORM_NOT_FOUND_KHR) or a platform without devices simply lists nothing.
std::vector<DeviceInfo> listDevices();

// A device's process-wide context. Never destroyed: CLBlast keeps programs of it in its own
// cache, and tearing contexts down during process exit races with driver unloading.
class DeviceContext {
 public:
  // The device at `index` of listDevices(); throws ClError(Unavailable) when there is none.
  static DeviceContext& get(size_t index);

  const DeviceInfo& info() const { return info_; }
  cl_context context() const { return context_; }
  cl_device_id device() const { return info_.id; }
  // Our kernels built for this context with `options`, once (Kind::Build with the log on failure).
  cl_program program(const std::string& options);
  // CLBlast 1.5 fills its per-context caches without locking: callers serialise through this.
  std::mutex& blasMutex() { return blasMutex_; }

 private:
  explicit DeviceContext(const DeviceInfo& info);
  DeviceInfo info_;
  cl_context context_ = nullptr;
  std::mutex mutex_;
  std::map<std::string, cl_program> programs_;
  std::mutex blasMutex_;
};

// An owned cl_mem.
class Buffer {
 public:
  Buffer() = default;
  Buffer(cl_context ctx, size_t bytes, const void* init = nullptr);
  ~Buffer();
  Buffer(Buffer&& o) noexcept : mem_(o.mem_), bytes_(o.bytes_) { o.mem_ = nullptr; }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  cl_mem get() const { return mem_; }
  size_t bytes() const { return bytes_; }

 private:
  cl_mem mem_ = nullptr;
  size_t bytes_ = 0;
};

// Integer vectors passed by value to kernels (shapes, strides): layout-identical to the
// OpenCL C `typedef struct { int v[8]; } dims8;`.
constexpr int kMaxRank = 8;
struct Dims8 {
  cl_int v[kMaxRank] = {0, 0, 0, 0, 0, 0, 0, 0};
};

// One kernel of our program. Arguments live in the cl_kernel object, so setting them and
// enqueueing happen under one lock: several requests may launch the same op at once.
class Kernel {
 public:
  Kernel(cl_program program, const char* name, const DeviceInfo& dev);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // 1-D launch of `items` work-items (rounded up to whole work-groups; kernels bound-check).
  template <typename... Args>
  void launch(cl_command_queue queue, size_t items, const Args&... args) {
    if (items == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    cl_uint i = 0;
    (setArg(i++, args), ...);
    size_t global = (items + local_ - 1) / local_ * local_;
    const cl_int status = clEnqueueNDRangeKernel(queue, kernel_, 1, nullptr, &global, &local_, 0, nullptr, nullptr);
    if (status != CL_SUCCESS) check(status, "enqueue " + name_);
  }

 private:
  template <typename T>
  void setArg(cl_uint i, const T& v) {
    const cl_int status = clSetKernelArg(kernel_, i, sizeof(T), &v);
    if (status != CL_SUCCESS) check(status, "argument " + std::to_string(i) + " of kernel " + name_);
  }
  void setArg(cl_uint i, const Buffer& b) { setArg(i, b.get()); }

  cl_kernel kernel_ = nullptr;
  std::string name_;
  // A fixed work-group size: pocl compiles one work-group function per local size, so letting
  // the driver choose per launch would recompile kernels for every new tensor size.
  size_t local_ = 64;
  std::mutex mutex_;
};

}  // namespace gpu
}  // namespace dynbatch
