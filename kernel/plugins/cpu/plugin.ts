/** The CPU plugin: lowers a graph and compiles it into a native oneDNN program. */
import { Graph } from "../../graph/graph";
import { DynbatchError, NativeError } from "../../errors";
import { CompileOptions, CompiledModel, Plugin } from "../plugin";
import { lowerGraph } from "./lower";
import { loadAddon } from "./native";

export class CpuPlugin implements Plugin {
  readonly device = "CPU";

  get fullDeviceName(): string {
    return `CPU (${loadAddon().hardwareConcurrency()} threads, oneDNN ${loadAddon().dnnlVersion()})`;
  }

  compile(prepared: Graph, opts: CompileOptions): CompiledModel {
    const lowered = lowerGraph(prepared, opts);
    const addon = loadAddon();
    let program;
    try {
      program = new addon.Program(lowered.spec);
    } catch (e) {
      throw typedNativeError(e, prepared.file);
    }
    return {
      inputs: lowered.inputs,
      outputs: lowered.outputs,
      layers: lowered.layers,
      createRequest() {
        const req = program.createRequest();
        return {
          buffer: (tensor: number) => new Float32Array(req.buffer(tensor)),
          run: (n: number) =>
            req.run(n).catch((e: unknown) => {
              throw typedNativeError(e, prepared.file);
            }),
        };
      },
    };
  }
}

/** The addon throws plain Errors carrying a `code`; users get the typed class for it. */
function typedNativeError(e: unknown, file: string): DynbatchError {
  if (e instanceof DynbatchError) return e;
  const err = e as Error & { code?: string };
  return new NativeError(`${file}: ${err.message}${err.code && err.code !== "NATIVE" ? ` (${err.code})` : ""}`);
}
