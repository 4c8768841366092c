#include "gpu/cl_common.h"

#include <CL/cl_ext.h>

#include "gpu/kernels_cl.h"
#include "gpu/kernels_detection_cl.h"
#include "gpu/op_codes.h"

namespace dynbatch {
namespace gpu {

std::string statusName(cl_int status) {
  static const std::map<cl_int, const char*> names = {
      {CL_DEVICE_NOT_FOUND, "CL_DEVICE_NOT_FOUND"},
      {CL_DEVICE_NOT_AVAILABLE, "CL_DEVICE_NOT_AVAILABLE"},
      {CL_COMPILER_NOT_AVAILABLE, "CL_COMPILER_NOT_AVAILABLE"},
      {CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
      {CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES"},
      {CL_OUT_OF_HOST_MEMORY, "CL_OUT_OF_HOST_MEMORY"},
      {CL_PROFILING_INFO_NOT_AVAILABLE, "CL_PROFILING_INFO_NOT_AVAILABLE"},
      {CL_BUILD_PROGRAM_FAILURE, "CL_BUILD_PROGRAM_FAILURE"},
      {CL_INVALID_VALUE, "CL_INVALID_VALUE"},
      {CL_INVALID_DEVICE, "CL_INVALID_DEVICE"},
      {CL_INVALID_CONTEXT, "CL_INVALID_CONTEXT"},
      {CL_INVALID_COMMAND_QUEUE, "CL_INVALID_COMMAND_QUEUE"},
      {CL_INVALID_MEM_OBJECT, "CL_INVALID_MEM_OBJECT"},
      {CL_INVALID_BUILD_OPTIONS, "CL_INVALID_BUILD_OPTIONS"},
      {CL_INVALID_PROGRAM_EXECUTABLE, "CL_INVALID_PROGRAM_EXECUTABLE"},
      {CL_INVALID_KERNEL_NAME, "CL_INVALID_KERNEL_NAME"},
      {CL_INVALID_ARG_INDEX, "CL_INVALID_ARG_INDEX"},
      {CL_INVALID_ARG_VALUE, "CL_INVALID_ARG_VALUE"},
      {CL_INVALID_ARG_SIZE, "CL_INVALID_ARG_SIZE"},
      {CL_INVALID_KERNEL_ARGS, "CL_INVALID_KERNEL_ARGS"},
      {CL_INVALID_WORK_GROUP_SIZE, "CL_INVALID_WORK_GROUP_SIZE"},
      {CL_INVALID_GLOBAL_WORK_SIZE, "CL_INVALID_GLOBAL_WORK_SIZE"},
      {CL_INVALID_BUFFER_SIZE, "CL_INVALID_BUFFER_SIZE"},
      {CL_INVALID_EVENT, "CL_INVALID_EVENT"},
      {CL_INVALID_OPERATION, "CL_INVALID_OPERATION"},
      {CL_PLATFORM_NOT_FOUND_KHR, "CL_PLATFORM_NOT_FOUND_KHR"},
  };
  auto it = names.find(status);
  const std::string name =
      it != names.end() ? it->second : (status <= -1000 && status > -3000 ? "CLBlast status" : "OpenCL status");
  return name + " (" + std::to_string(status) + ")";
}

void check(cl_int status, const std::string& what) {
  if (status == CL_SUCCESS) return;
  const bool oom = status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES || status == CL_OUT_OF_HOST_MEMORY;
  throw ClError(oom ? ClError::Kind::OutOfMemory : ClError::Kind::Runtime, status,
                (oom ? "out of device memory: " : "OpenCL error: ") + what + " failed with " + statusName(status));
}

namespace {

std::string deviceString(cl_device_id d, cl_device_info key) {
  size_t n = 0;
  if (clGetDeviceInfo(d, key, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  clGetDeviceInfo(d, key, n, s.data(), nullptr);
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

template <typename T>
T deviceValue(cl_device_id d, cl_device_info key) {
  T v{};
  clGetDeviceInfo(d, key, sizeof(T), &v, nullptr);
  return v;
}

}  // namespace

std::vector<DeviceInfo> listDevices() {
  std::vector<DeviceInfo> out;
  cl_uint count = 0;
  // No ICD file, or ICDs whose drivers fail to load, end here with CL_PLATFORM_NOT_FOUND_KHR.
  if (clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0) return out;
  std::vector<cl_platform_id> platforms(count);
  if (clGetPlatformIDs(count, platforms.data(), nullptr) != CL_SUCCESS) return out;
  for (cl_platform_id p : platforms) {
    size_t n = 0;
    std::string platformName;
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, 0, nullptr, &n) == CL_SUCCESS && n > 0) {
      platformName.resize(n);
      clGetPlatformInfo(p, CL_PLATFORM_NAME, n, platformName.data(), nullptr);
      while (!platformName.empty() && platformName.back() == '\0') platformName.pop_back();
    }
    cl_uint nd = 0;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &nd) != CL_SUCCESS || nd == 0) continue;
    std::vector<cl_device_id> devs(nd);
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, devs.data(), nullptr) != CL_SUCCESS) continue;
    for (cl_device_id d : devs) {
      DeviceInfo info;
      info.platform = p;
      info.id = d;
      info.platformName = platformName;
      info.name = deviceString(d, CL_DEVICE_NAME);
      info.vendor = deviceString(d, CL_DEVICE_VENDOR);
      info.version = deviceString(d, CL_DEVICE_VERSION);
      info.driver = deviceString(d, CL_DRIVER_VERSION);
      const auto type = deviceValue<cl_device_type>(d, CL_DEVICE_TYPE);
      info.type = (type & CL_DEVICE_TYPE_GPU)           ? "GPU"
                  : (type & CL_DEVICE_TYPE_CPU)         ? "CPU"
                  : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "ACCELERATOR"
                                                        : "OTHER";
      info.globalMemBytes = deviceValue<cl_ulong>(d, CL_DEVICE_GLOBAL_MEM_SIZE);
      info.maxAllocBytes = deviceValue<cl_ulong>(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
      info.computeUnits = deviceValue<cl_uint>(d, CL_DEVICE_MAX_COMPUTE_UNITS);
      info.maxWorkGroupSize = deviceValue<size_t>(d, CL_DEVICE_MAX_WORK_GROUP_SIZE);
      info.fp16 = deviceString(d, CL_DEVICE_EXTENSIONS).find("cl_khr_fp16") != std::string::npos;
      out.push_back(std::move(info));
    }
  }
  return out;
}

DeviceContext& DeviceContext::get(size_t index) {
  static std::mutex mutex;
  static std::map<cl_device_id, DeviceContext*> contexts;
  const std::vector<DeviceInfo> devices = listDevices();
  if (index >= devices.size())
    throw ClError(ClError::Kind::Unavailable, CL_DEVICE_NOT_FOUND,
                  devices.empty()
                      ? std::string("no OpenCL device: no platform is installed (") + statusName(CL_PLATFORM_NOT_FOUND_KHR) + ")"
                      : "no OpenCL device " + std::to_string(index) + " (there are " + std::to_string(devices.size()) + ")");
  std::lock_guard<std::mutex> lock(mutex);
  auto it = contexts.find(devices[index].id);
  if (it != contexts.end()) return *it->second;
  auto* ctx = new DeviceContext(devices[index]);
  contexts[devices[index].id] = ctx;
  return *ctx;
}

DeviceContext::DeviceContext(const DeviceInfo& info) : info_(info) {
  cl_int status = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(info.platform), 0};
  context_ = clCreateContext(props, 1, &info_.id, nullptr, nullptr, &status);
  if (status != CL_SUCCESS)
    throw ClError(ClError::Kind::Unavailable, status,
                  "cannot create an OpenCL context on '" + info.name + "': " + statusName(status));
}

cl_program DeviceContext::program(const std::string& options) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = programs_.find(options);
  if (it != programs_.end()) return it->second;
  cl_int status = CL_SUCCESS;
  const std::string source = kernelCodeDefines() + kKernelSource + kDetectionKernelSource;
  const char* src = source.c_str();
  cl_program p = clCreateProgramWithSource(context_, 1, &src, nullptr, &status);
  check(status, "clCreateProgramWithSource");
  status = clBuildProgram(p, 1, &info_.id, options.c_str(), nullptr, nullptr);
  if (status != CL_SUCCESS) {
    size_t n = 0;
    std::string log;
    if (clGetProgramBuildInfo(p, info_.id, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n) == CL_SUCCESS && n > 1) {
      log.resize(n);
      clGetProgramBuildInfo(p, info_.id, CL_PROGRAM_BUILD_LOG, n, log.data(), nullptr);
      while (!log.empty() && log.back() == '\0') log.pop_back();
    }
    clReleaseProgram(p);
    throw ClError(ClError::Kind::Build, status,
                  "building the GPU kernels for '" + info_.name + "' with options \"" + options + "\" failed with " +
                      statusName(status) + (log.empty() ? "" : ":\n" + log),
                  log);
  }
  programs_[options] = p;
  return p;
}

Buffer::Buffer(cl_context ctx, size_t bytes, const void* init) : bytes_(bytes) {
  cl_int status = CL_SUCCESS;
  // Zero-sized tensors still get a valid buffer: OpenCL rejects empty allocations.
  const size_t size = bytes == 0 ? 4 : bytes;
  mem_ = clCreateBuffer(ctx, init ? CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR : CL_MEM_READ_WRITE, size,
                        init && bytes ? const_cast<void*>(init) : nullptr, &status);
  if (status == CL_INVALID_BUFFER_SIZE) status = CL_MEM_OBJECT_ALLOCATION_FAILURE;
  check(status, "allocating " + std::to_string(size) + " bytes of device memory");
}

Buffer::~Buffer() {
  if (mem_) clReleaseMemObject(mem_);
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    if (mem_) clReleaseMemObject(mem_);
    mem_ = o.mem_;
    bytes_ = o.bytes_;
    o.mem_ = nullptr;
  }
  return *this;
}

Kernel::Kernel(cl_program program, const char* name, const DeviceInfo& dev) : name_(name) {
  cl_int status = CL_SUCCESS;
  kernel_ = clCreateKernel(program, name, &status);
  check(status, std::string("clCreateKernel ") + name);
  size_t most = 0;
  if (clGetKernelWorkGroupInfo(kernel_, dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof(most), &most, nullptr) == CL_SUCCESS &&
      most > 0)
    local_ = std::min(local_, most);
  local_ = std::max<size_t>(1, std::min(local_, dev.maxWorkGroupSize));
}

Kernel::~Kernel() {
  if (kernel_) clReleaseKernel(kernel_);
}

}  // namespace gpu
}  // namespace dynbatch
