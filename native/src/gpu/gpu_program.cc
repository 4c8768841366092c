#include "gpu/gpu_program.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace dynbatch {
namespace gpu {

GpuOpRegistry& GpuOpRegistry::instance() {
  static GpuOpRegistry registry;
  return registry;
}

std::unique_ptr<GpuOp> GpuOpRegistry::create(const OpSpec& spec, Builder& b) const {
  auto it = entries_.find(spec.type);
  if (it == entries_.end()) throw OpError(spec.name, "native op type '" + spec.type + "' is not implemented on GPU");
  for (const auto& kv : spec.attrs.nums)
    if (!it->second.attrs.count(kv.first))
      throw OpError(spec.name, spec.type + ": attribute '" + kv.first + "' is not supported on GPU");
  for (const auto& kv : spec.attrs.strs)
    if (!it->second.attrs.count(kv.first))
      throw OpError(spec.name, spec.type + ": attribute '" + kv.first + "' is not supported on GPU");
  try {
    return it->second.factory(spec, b);
  } catch (const OpError&) {
    throw;
  } catch (const ClError&) {
    throw;
  } catch (const std::exception& e) {
    throw OpError(spec.name, spec.type + ": " + e.what());
  }
}

std::vector<std::string> GpuOpRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& kv : entries_) out.push_back(kv.first);
  return out;
}

int toInt(int64_t v, const std::string& layer) {
  if (v < -(int64_t{1} << 31) || v >= (int64_t{1} << 31))
    throw OpError(layer, "a size or index of " + std::to_string(v) + " exceeds the GPU kernels' 32-bit indexing");
  return static_cast<int>(v);
}

std::vector<int64_t> stridesOf(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

Dims8 dims8(const std::vector<int64_t>& v, const std::string& layer) {
  if (v.size() > static_cast<size_t>(kMaxRank))
    throw OpError(layer, "rank " + std::to_string(v.size()) + " exceeds the GPU kernels' limit of " + std::to_string(kMaxRank));
  Dims8 d;
  for (size_t i = 0; i < v.size(); ++i) d.v[i] = toInt(v[i], layer);
  return d;
}

namespace {

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

GpuProgram::GpuProgram(ProgramSpec spec, size_t deviceIndex, const std::string& buildOptions)
    : spec_(std::move(spec)), dev_(&DeviceContext::get(deviceIndex)) {
  validateSpec(spec_);
  Builder builder(*dev_, dev_->program(buildOptions));
  constants_.resize(spec_.tensors.size());
  for (size_t i = 0; i < spec_.tensors.size(); ++i)
    if (spec_.tensors[i].constant) constants_[i] = builder.upload(spec_.tensors[i].data);
  ops_.reserve(spec_.ops.size());
  for (const OpEntry& e : spec_.ops) {
    ops_.push_back(GpuOpRegistry::instance().create(opSpecOf(spec_, e), builder));
    scratchBytes_ = std::max(scratchBytes_, ops_.back()->scratchBytes());
  }
}

bool GpuProgram::isIo(int id) const {
  return std::count(spec_.inputs.begin(), spec_.inputs.end(), id) > 0 ||
         std::count(spec_.outputs.begin(), spec_.outputs.end(), id) > 0;
}

GpuRequest::GpuRequest(std::shared_ptr<const GpuProgram> program) : program_(std::move(program)) {
  const ProgramSpec& s = program_->spec();
  const DeviceInfo& dev = program_->device().info();
  // Refuse up front what cannot fit: drivers that allocate lazily would fail mid-run instead.
  uint64_t total = program_->scratchBytes();
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    if (s.tensors[i].constant) continue;
    const uint64_t bytes = program_->maxBytes(static_cast<int>(i));
    total += bytes;
    if (bytes > dev.maxAllocBytes)
      throw ClError(ClError::Kind::OutOfMemory, CL_MEM_OBJECT_ALLOCATION_FAILURE,
                    "out of device memory: tensor " + std::to_string(i) + " needs " + mib(bytes) + ", more than the " +
                        mib(dev.maxAllocBytes) + " one buffer may have on '" + dev.name + "'");
  }
  if (total > dev.globalMemBytes)
    throw ClError(
        ClError::Kind::OutOfMemory, CL_MEM_OBJECT_ALLOCATION_FAILURE,
        "out of device memory: a request needs " + mib(total) + " of tensors, '" + dev.name + "' has " + mib(dev.globalMemBytes));
  cl_int status = CL_SUCCESS;
  queue_ = clCreateCommandQueue(program_->device().context(), dev.id, CL_QUEUE_PROFILING_ENABLE, &status);
  check(status, "clCreateCommandQueue");
  try {
    device_.resize(s.tensors.size());
    host_.assign(s.tensors.size(), nullptr);
    for (size_t i = 0; i < s.tensors.size(); ++i) {
      if (s.tensors[i].constant) continue;
      device_[i] = Buffer(program_->device().context(), program_->maxBytes(static_cast<int>(i)));
      if (!program_->isIo(static_cast<int>(i))) continue;
      const size_t bytes = std::max<size_t>(64, (program_->maxBytes(static_cast<int>(i)) + 63) / 64 * 64);
      void* p = std::aligned_alloc(64, bytes);
      if (!p) throw ClError(ClError::Kind::OutOfMemory, CL_OUT_OF_HOST_MEMORY, "out of host memory for request buffers");
      std::memset(p, 0, bytes);
      host_[i] = static_cast<float*>(p);
    }
    if (program_->scratchBytes() > 0) scratch_ = Buffer(program_->device().context(), program_->scratchBytes());
  } catch (...) {
    for (float* p : host_) std::free(p);
    clReleaseCommandQueue(queue_);
    throw;
  }
}

GpuRequest::~GpuRequest() {
  for (float* p : host_) std::free(p);
  if (queue_) clReleaseCommandQueue(queue_);
}

float* GpuRequest::buffer(int id) const {
  const ProgramSpec& s = program_->spec();
  if (id < 0 || id >= static_cast<int>(s.tensors.size()) || !host_[id])
    throw SpecError("buffer: tensor " + std::to_string(id) + " is not a program input or output");
  return host_[id];
}

std::vector<double> GpuRequest::run(int64_t n) {
  const ProgramSpec& s = program_->spec();
  if (n < 1 || n > s.maxBatch)
    throw SpecError("batch " + std::to_string(n) + " is out of range 1.." + std::to_string(s.maxBatch));
  Run r;
  r.queue = queue_;
  r.batch = n;
  r.scratch = scratch_.get();
  auto bytesAt = [&](int id) { return static_cast<size_t>(numel(s.tensors[id].shapeAt(n))) * sizeof(float); };
  auto tensorAt = [&](int id) {
    const TensorDesc& d = s.tensors[id];
    return DevTensor{d.constant ? program_->constant(id) : device_[id].get(), d.shapeAt(n)};
  };
  // Markers between ops time each op on the device: an in-order queue completes a marker
  // when everything before it has completed.
  std::vector<cl_event> marks;
  marks.reserve(s.ops.size() + 1);
  auto mark = [&] {
    cl_event e = nullptr;
    check(clEnqueueMarkerWithWaitList(queue_, 0, nullptr, &e), "clEnqueueMarkerWithWaitList");
    marks.push_back(e);
  };
  auto releaseMarks = [&] {
    for (cl_event e : marks) clReleaseEvent(e);
  };
  try {
    for (int id : s.inputs)
      if (bytesAt(id) > 0)
        check(clEnqueueWriteBuffer(queue_, device_[id].get(), CL_FALSE, 0, bytesAt(id), host_[id], 0, nullptr, nullptr),
              "copying input tensor " + std::to_string(id) + " to the device");
    mark();
    std::vector<DevTensor> in, out;
    for (size_t i = 0; i < s.ops.size(); ++i) {
      const OpEntry& e = s.ops[i];
      in.clear();
      out.clear();
      for (int id : e.inputs) in.push_back(tensorAt(id));
      for (int id : e.outputs) out.push_back(tensorAt(id));
      try {
        program_->ops()[i]->enqueue(r, in, out);
      } catch (const ClError& err) {
        throw ClError(err.kind, err.status, "layer '" + e.name + "' (" + e.type + "): " + err.what(), err.buildLog);
      }
      mark();
    }
    for (int id : s.outputs)
      if (bytesAt(id) > 0)
        check(clEnqueueReadBuffer(queue_, device_[id].get(), CL_FALSE, 0, bytesAt(id), host_[id], 0, nullptr, nullptr),
              "copying output tensor " + std::to_string(id) + " from the device");
    check(clFinish(queue_), "running the program");
  } catch (...) {
    clFinish(queue_);  // nothing may still use request memory once the error is reported
    releaseMarks();
    throw;
  }
  std::vector<double> times(s.ops.size(), 0.0);
  cl_ulong prev = 0;
  for (size_t i = 0; i < marks.size(); ++i) {
    cl_ulong end = 0;
    if (clGetEventProfilingInfo(marks[i], CL_PROFILING_COMMAND_END, sizeof(end), &end, nullptr) != CL_SUCCESS) end = prev;
    if (i > 0 && end >= prev) times[i - 1] = static_cast<double>(end - prev) / 1000.0;
    prev = end;
  }
  releaseMarks();
  return times;
}

}  // namespace gpu
}  // namespace dynbatch
