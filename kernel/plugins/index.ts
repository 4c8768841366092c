/** Device plugins by name. */
import { Plugin } from "./plugin";
import { CpuPlugin } from "./cpu/plugin";

const plugins: Plugin[] = [new CpuPlugin()];

export function devices(): string[] {
  return plugins.map((p) => p.device);
}

export function pluginFor(device: string): Plugin | undefined {
  return plugins.find((p) => p.device === device);
}

export type { Plugin, CompiledModel, CompileOptions, IoBinding, ExecutedLayer, DeviceRequest } from "./plugin";
