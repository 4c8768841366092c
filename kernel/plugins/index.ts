/** Device plugins by name. */
import { DynbatchError, GpuUnavailableError, UnknownDeviceError } from "../errors";
import { Plugin } from "./plugin";
import { CpuPlugin } from "./cpu/plugin";
import { GpuPlugin, gpuDeviceNames, gpuDevices, gpuUnavailableReason } from "./gpu/plugin";

/** "GPU" or "GPU.<i>"; the index is captured. */
const GPU_NAME = /^GPU(?:\.(0|[1-9]\d*))?$/;

const cpu = new CpuPlugin();
const gpus = new Map<string, GpuPlugin>();

/** "CPU", then "GPU" (and "GPU.0", "GPU.1"… when there are several) when an OpenCL device can serve. */
export function devices(): string[] {
  return [cpu.device, ...gpuDeviceNames()];
}

/** The plugin for a device name; "GPU" is the first GPU and "GPU.<i>" any of them. */
export function pluginFor(device: string): Plugin | undefined {
  if (device === cpu.device) return cpu;
  const m = GPU_NAME.exec(device);
  if (!m) return undefined;
  const info = gpuDevices()[m[1] === undefined ? 0 : Number(m[1])];
  if (!info) return undefined;
  const key = `${device}#${info.index}`;
  let p = gpus.get(key);
  if (!p) gpus.set(key, (p = new GpuPlugin(device, info)));
  return p;
}

/** The typed error for a device name pluginFor() does not know. */
export function deviceError(device: string): DynbatchError {
  if (GPU_NAME.test(device) && gpuDevices().length === 0) return new GpuUnavailableError(device, gpuUnavailableReason());
  return new UnknownDeviceError(device, devices());
}

export type { Plugin, CompiledModel, CompileOptions, IoBinding, ExecutedLayer, DeviceRequest } from "./plugin";
