/**
 * The GPU plugin: the lowering both plugins share (plugins/lower; the native op set is
 * device-neutral) compiled into OpenCL kernels and CLBlast GEMMs (native/src/gpu). Dynamic batch:
 * every kernel takes the run's shapes as arguments, so one program compiled for the maximum batch
 * runs any n.
 */
import { Graph } from "../../graph/graph";
import { bufferViews, CompileOptions, CompiledModel, Plugin } from "../plugin";
import { lowerGraph } from "../lower";
import { GpuDeviceInfo, loadGpuAddon, typedNativeError } from "../native";

/** Set to "1" to let an OpenCL CPU device (pocl) serve as "GPU", e.g. in CI. */
export const ALLOW_CPU_ENV = "DYNBATCH_GPU_ALLOW_CPU";
/** Extra OpenCL C compiler options for the GPU kernels (e.g. "-cl-mad-enable"). */
export const BUILD_OPTIONS_ENV = "DYNBATCH_GPU_BUILD_OPTIONS";

let allDevices: GpuDeviceInfo[] | undefined;

/** OpenCL devices usable as "GPU": GPU-type devices, plus CPU-type ones when allowed by the environment. */
export function gpuDevices(): GpuDeviceInfo[] {
  // OpenCL's ICD loader reads its platforms once per process, so the list cannot change.
  allDevices ??= loadGpuAddon().gpuDevices();
  const allowCpu = process.env[ALLOW_CPU_ENV] === "1";
  return allDevices.filter((d) => d.type === "GPU" || (allowCpu && d.type === "CPU"));
}

/** Device names to list: "GPU", and "GPU.0", "GPU.1"… when there are several. */
export function gpuDeviceNames(): string[] {
  const n = gpuDevices().length;
  if (n === 0) return [];
  return n === 1 ? ["GPU"] : ["GPU", ...Array.from({ length: n }, (_, i) => `GPU.${i}`)];
}

/** Why no "GPU" device can be used right now (for GpuUnavailableError). */
export function gpuUnavailableReason(): string {
  allDevices ??= loadGpuAddon().gpuDevices();
  if (allDevices.length === 0)
    return "no OpenCL device found: no OpenCL platform is installed, or the ICD loader finds no driver (CL_PLATFORM_NOT_FOUND_KHR)";
  const cpus = allDevices.filter((d) => d.type === "CPU");
  if (cpus.length > 0 && process.env[ALLOW_CPU_ENV] !== "1")
    return `the only OpenCL devices are not GPUs (${allDevices.map((d) => `${d.name}: ${d.type}`).join(", ")}); set ${ALLOW_CPU_ENV}=1 to run the GPU plugin on an OpenCL CPU device`;
  return `no OpenCL GPU device (found ${allDevices.map((d) => `${d.name}: ${d.type}`).join(", ")})`;
}

export class GpuPlugin implements Plugin {
  constructor(
    /** "GPU" or "GPU.<i>". */
    readonly device: string,
    private readonly info: GpuDeviceInfo,
  ) {}

  get fullDeviceName(): string {
    const d = this.info;
    const cpu = d.type === "CPU" ? `, an OpenCL CPU device allowed by ${ALLOW_CPU_ENV}=1` : "";
    return `${d.name} (${d.platform}, ${d.version}, ${d.computeUnits} compute units${cpu})`;
  }

  /** The OpenCL device runs the kernels: the program spec's host thread count is read but unused. */
  readonly defaultThreads = 1;

  compile(prepared: Graph, opts: CompileOptions): CompiledModel {
    const lowered = lowerGraph(prepared, opts);
    const addon = loadGpuAddon();
    let program;
    try {
      program = new addon.GpuProgram(lowered.spec, this.info.index, process.env[BUILD_OPTIONS_ENV] ?? "");
    } catch (e) {
      throw typedNativeError(e, prepared.file, this.device);
    }
    const device = this.device;
    return {
      inputs: lowered.inputs,
      outputs: lowered.outputs,
      layers: lowered.layers,
      createRequest() {
        let req;
        try {
          req = program.createRequest();
        } catch (e) {
          throw typedNativeError(e, prepared.file, device);
        }
        return {
          buffer: bufferViews((tensor) => req.buffer(tensor)),
          run: (n: number) =>
            req.run(n).catch((e: unknown) => {
              throw typedNativeError(e, prepared.file, device);
            }),
        };
      },
    };
  }
}
