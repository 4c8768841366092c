/**
 * Imported first by every GPU test: lets pocl's CPU device serve as "GPU" and keeps pocl's
 * compiled-kernel cache in one temporary folder for the whole test run (the first compile of
 * CLBlast's GEMM on pocl takes tens of seconds; later processes reuse the cache).
 * Both must be set before the addon first touches OpenCL. With CI set, no device is a failure, not a skip.
 */
import * as os from "os";
import * as path from "path";
import { loadGpuAddon } from "../../kernel/plugins/native";

process.env.DYNBATCH_GPU_ALLOW_CPU = "1";
process.env.POCL_CACHE_DIR ??= path.join(os.tmpdir(), "dynbatch-pocl-cache");

const noDevice = loadGpuAddon().gpuDevices().length === 0;
const INSTALL = "install pocl-opencl-icd to test the GPU plugin on the CPU";

// In CI a missing device means a broken setup (scripts/setup.sh installs pocl), which must not pass as skipped tests.
if (noDevice && process.env.CI)
  throw new Error(
    `CI is set but no OpenCL device was found (clinfo -l lists none): ${INSTALL}, or check the OpenCL ICD loader and OCL_ICD_VENDORS`,
  );

/** Why the GPU tests cannot run here (no OpenCL device at all), or undefined when they can. */
export const GPU_SKIP: string | undefined = noDevice ? `no OpenCL device on this machine (${INSTALL})` : undefined;
