// The GPU executor: the same ProgramSpec as the CPU one (native/OPS.md op set), compiled once
// for the maximum batch on one OpenCL device. Each request owns its device tensors, its host
// input/output memory and its own in-order command queue, so several requests run at once.
// Dynamic batch: every kernel takes the run's shapes (batch n included) as arguments, so the
// one compiled program serves every n with work proportional to n (see README "GPU").
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gpu/gpu_op.h"
#include "program.h"

namespace dynbatch {
namespace gpu {

class GpuProgram {
 public:
  // Builds the kernels (cached per context and build options), uploads constants and creates
  // every op; throws SpecError, OpError or ClError.
  GpuProgram(ProgramSpec spec, size_t deviceIndex, const std::string& buildOptions);
  const ProgramSpec& spec() const { return spec_; }
  DeviceContext& device() const { return *dev_; }
  const std::vector<std::unique_ptr<GpuOp>>& ops() const { return ops_; }
  cl_mem constant(int id) const { return constants_[id].get(); }
  size_t scratchBytes() const { return scratchBytes_; }
  size_t maxBytes(int id) const { return static_cast<size_t>(numel(spec_.tensors[id].maxShape)) * sizeof(float); }
  // Whether tensor `id` is a program input or output (the tensors with host memory).
  bool isIo(int id) const;

 private:
  ProgramSpec spec_;
  DeviceContext* dev_;
  std::vector<Buffer> constants_;  // per tensor id; empty for non-constants
  std::vector<std::unique_ptr<GpuOp>> ops_;
  size_t scratchBytes_ = 0;
};

class GpuRequest {
 public:
  // Allocates every device tensor up front; throws ClError(OutOfMemory) when the device cannot hold them.
  explicit GpuRequest(std::shared_ptr<const GpuProgram> program);
  ~GpuRequest();
  GpuRequest(const GpuRequest&) = delete;
  GpuRequest& operator=(const GpuRequest&) = delete;

  const GpuProgram& program() const { return *program_; }
  // Host memory of a program input or output, sized for the maximum batch.
  float* buffer(int id) const;
  bool tryAcquire() { return !busy_.exchange(true); }
  void release() { busy_.store(false); }
  // Copies the inputs' first n samples in, enqueues every op, copies the outputs back and
  // waits; returns each op's device time in µs. Blocks the calling (worker) thread only.
  std::vector<double> run(int64_t n);

 private:
  std::shared_ptr<const GpuProgram> program_;
  cl_command_queue queue_ = nullptr;
  std::vector<Buffer> device_;  // per tensor id; empty for constants
  std::vector<float*> host_;    // per tensor id; inputs and outputs only
  Buffer scratch_;
  std::atomic<bool> busy_{false};
};

}  // namespace gpu
}  // namespace dynbatch
