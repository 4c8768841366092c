// JS binding of the GPU executor: GpuProgram (same interface as Program, plus the device index
// and OpenCL build options), gpuDevices() and gpuOpTypes(). See kernel/plugins/native.ts.
#pragma once
#include <napi.h>

#include "program.h"

namespace dynbatch {
namespace gpu {

// Adds the GPU exports; `parseSpec` is the CPU binding's spec parser (the spec format is shared).
void initExports(Napi::Env env, Napi::Object exports, ProgramSpec (*parseSpec)(const Napi::Value&));

}  // namespace gpu
}  // namespace dynbatch
