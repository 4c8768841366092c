/**
 * Imported first by every GPU test: lets pocl's CPU device serve as "GPU" and keeps pocl's
 * compiled-kernel cache in one temporary folder for the whole test run (the first compile of
 * CLBlast's GEMM on pocl takes tens of seconds; later processes reuse the cache).
 * Both must be set before the addon first touches OpenCL.
 */
import * as os from "os";
import * as path from "path";
import { loadGpuAddon } from "../../kernel/plugins/gpu/native";

process.env.DYNBATCH_GPU_ALLOW_CPU = "1";
process.env.POCL_CACHE_DIR ??= path.join(os.tmpdir(), "dynbatch-pocl-cache");

/** Why the GPU tests cannot run here (no OpenCL device at all), or undefined when they can. */
export const GPU_SKIP: string | undefined =
  loadGpuAddon().gpuDevices().length === 0
    ? "no OpenCL device on this machine (install pocl-opencl-icd to test the GPU plugin on the CPU)"
    : undefined;
