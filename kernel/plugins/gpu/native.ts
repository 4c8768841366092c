/**
 * Typed view of the GPU half of the native addon (native/src/gpu/gpu_addon.cc): the same
 * program spec as the CPU backend, compiled once on an OpenCL device.
 */
import { loadAddon, NativeProgram, NativeProgramSpec } from "../cpu/native";

export interface GpuDeviceInfo {
  /** Position in the list of every OpenCL device of every platform. */
  index: number;
  name: string;
  /** CL_DEVICE_TYPE: "GPU", "CPU" (pocl), "ACCELERATOR" or "OTHER". */
  type: string;
  vendor: string;
  /** CL_DEVICE_VERSION, e.g. "OpenCL 3.0 CUDA". */
  version: string;
  driver: string;
  platform: string;
  globalMemBytes: number;
  maxAllocBytes: number;
  computeUnits: number;
  /** cl_khr_fp16 is supported. */
  fp16: boolean;
}

export interface GpuAddon {
  /**
   * Compiles `spec` on OpenCL device `device` (a gpuDevices() index) with extra OpenCL C
   * `buildOptions`. Requests expose host memory for program inputs and outputs only.
   */
  GpuProgram: new (spec: NativeProgramSpec, device: number, buildOptions?: string) => NativeProgram;
  /** Every OpenCL device; empty when no OpenCL platform is installed. */
  gpuDevices(): GpuDeviceInfo[];
  /** Op types the GPU backend implements. */
  gpuOpTypes(): string[];
}

export function loadGpuAddon(): GpuAddon {
  return loadAddon() as unknown as GpuAddon;
}
