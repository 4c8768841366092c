/** The CPU plugin: lowers a graph and compiles it into a native oneDNN program. */
import { Graph } from "../../graph/graph";
import { bufferViews, CompileOptions, CompiledModel, ExecutedLayer, Plugin } from "../plugin";
import { fuseProgram } from "./fuse";
import { int8Program, refusedInt8Layer } from "./int8";
import { lowerGraph } from "../lower";
import { loadAddon, NativeStep, typedNativeError } from "../native";

export class CpuPlugin implements Plugin {
  readonly device = "CPU";

  get fullDeviceName(): string {
    return `CPU (${loadAddon().hardwareConcurrency()} threads, oneDNN ${loadAddon().dnnlVersion()})`;
  }

  /** Every hardware thread: oneDNN and the own kernels share them. */
  get defaultThreads(): number {
    return loadAddon().hardwareConcurrency();
  }

  compile(prepared: Graph, opts: CompileOptions): CompiledModel {
    const fp32 = fuseProgram(lowerGraph(prepared, opts));
    const addon = loadAddon();
    // Int8 convolutions oneDNN refuses on this CPU (an ISA without the kernel) run FP32 instead.
    const exclude = new Set<string>();
    let lowered = opts.int8 === false ? fp32 : int8Program(fp32);
    let program;
    for (;;) {
      try {
        program = new addon.Program(lowered.spec);
        break;
      } catch (e) {
        const refused = refusedInt8Layer(e);
        if (refused === undefined || exclude.has(refused)) throw typedNativeError(e, prepared.file, this.device);
        exclude.add(refused);
        lowered = int8Program(fp32, exclude);
      }
    }
    // Layers in execution order: each step's layer followed by the layers fused into it, and the
    // reorders the executor inserted; `slot` maps each step's time to its layer.
    const layers: ExecutedLayer[] = [];
    const slot: number[] = [];
    for (const s of program.steps()) {
      slot.push(layers.length);
      const precision = s.precision ?? "FP32";
      if (s.op < 0) layers.push({ name: s.name, type: "Reorder", execType: execType(s), precision });
      else layers.push({ ...lowered.layers[s.op], execType: execType(s), precision }, ...lowered.fused[s.op]);
    }
    const device = this.device;
    return {
      inputs: lowered.inputs,
      outputs: lowered.outputs,
      layers,
      createRequest() {
        const req = program.createRequest();
        return {
          buffer: bufferViews((tensor) => req.buffer(tensor)),
          strategy: (n: number) => req.strategy(n),
          prepare: (n: number) => req.prepare(n),
          run: (n: number) =>
            req.run(n).then(
              (times) => {
                const perLayer = new Float64Array(layers.length);
                times.forEach((t, i) => (perLayer[slot[i]] = t));
                return perLayer;
              },
              (e: unknown) => {
                throw typedNativeError(e, prepared.file, device);
              },
            ),
        };
      },
    };
  }
}

/** benchmark_app's style of implementation name: oneDNN's "jit:avx2" becomes "jit_avx2_FP32", an int8 one "brg_avx512_core_vnni_U8". */
function execType(s: NativeStep): string {
  return `${s.impl.replace(/[:]/g, "_")}_${s.precision ?? "FP32"}`;
}
