/**
 * What a device plugin gives the runtime: a graph (prepared at the maximum batch) compiled once
 * into a program whose requests run any batch n ≤ max.
 */
import * as os from "os";
import { Graph } from "../graph/graph";

/**
 * Largest tensor memory one request may ask for: half the machine, at most 16 GiB. The hard
 * budget: MAX_TENSOR_BYTES may not exceed it, and a network batch beyond it is refused at once.
 */
export const MAX_PROGRAM_BYTES = Math.min(16 * 2 ** 30, Math.floor(os.totalmem() / 2 / 2 ** 30) * 2 ** 30);

export interface CompileOptions {
  maxBatch: number;
  /** Per node id, per output: axis 0 is the batch. Null for a static network (every run uses maxBatch). */
  batched: Map<number, boolean[]> | null;
  threads: number;
  /** Every sample is computed independently (the shape-aware analysis proved it): threads may split a run by samples. */
  independentSamples: boolean;
  /** How a run spreads over the threads (CPU_PARALLEL). */
  parallel: ParallelMode;
  /** Run quantized convolutions and matmuls in int8 where the CPU can (CPU_INT8; default yes); false keeps FP32 with exact FakeQuantize. */
  int8?: boolean;
}

/** "auto": each request measures the candidates at each batch and keeps the fastest. */
export type ParallelMode = "auto" | "layers" | "samples";

/** A network input or output bound to a program tensor. */
export interface IoBinding {
  /** Primary name (tensor name, else the layer name). */
  name: string;
  /** Every name that resolves to it: tensor names, producing layer name, Result name. */
  aliases: string[];
  /** Shape at the maximum batch. */
  shape: number[];
  /** Axis 0 follows the request's batch. */
  batched: boolean;
  tensor: number;
}

/** One executed layer, in execution order (for performance counters). */
export interface ExecutedLayer {
  name: string;
  type: string;
  execType: string;
  /** Precision the layer ran in ("FP32", "U8" for int8 convolutions and matmuls); absent where the device does not say. */
  precision?: string;
  /** The layer this one was fused into: it runs inside that layer's kernel and has no time of its own. */
  fusedInto?: string;
}

export interface DeviceRequest {
  buffer(tensor: number): Float32Array;
  run(n: number): Promise<Float64Array>;
  /** How runs at batch n spread over the threads ("layers", "single", "samples"), where the device chooses. */
  strategy?(n: number): string;
  /**
   * Called as the inputs of a run at batch n are written: the device may start what the run will
   * need (the CPU plugin wakes the threads the run will use), so that it overlaps the copy.
   */
  prepare?(n: number): void;
}

/**
 * `DeviceRequest.buffer` over a native request's ArrayBuffers: one view per buffer for the
 * request's life, since getBlob/setInput ask for them on every call.
 */
export function bufferViews(nativeBuffer: (tensor: number) => ArrayBuffer): (tensor: number) => Float32Array {
  const views = new Map<number, Float32Array>();
  return (tensor) => {
    let v = views.get(tensor);
    if (!v) views.set(tensor, (v = new Float32Array(nativeBuffer(tensor))));
    return v;
  };
}

export interface CompiledModel {
  inputs: IoBinding[];
  outputs: IoBinding[];
  layers: ExecutedLayer[];
  createRequest(): DeviceRequest;
}

export interface Plugin {
  /** "CPU", "GPU" */
  readonly device: string;
  readonly fullDeviceName: string;
  /** Threads a network is compiled for when CPU_THREADS_NUM is 0. */
  readonly defaultThreads: number;
  compile(prepared: Graph, opts: CompileOptions): CompiledModel;
}
