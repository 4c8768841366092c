/**
 * Typed view of the native addon (native/src/addon.cc, and its GPU half native/src/gpu/gpu_addon.cc),
 * shared by both plugins. A plugin builds a NativeProgramSpec from a graph (lower/); the addon
 * compiles it once (oneDNN primitives and reordered weights, or OpenCL kernels) and every request
 * runs it for any batch n <= maxBatch. Errors the addon throws become typed errors here.
 */
import * as fs from "fs";
import * as path from "path";
import { DynbatchError, GpuError, GpuErrorCode, GpuUnavailableError, NativeError } from "../errors";
import { unavailableError } from "./requirements";

export type NativeAttr = number | number[] | string;

export interface NativeTensorSpec {
  /** Shape at the maximum batch. */
  shape: number[];
  /** Axis 0 is the batch: at batch n the shape is [n, ...shape.slice(1)]. */
  batched: boolean;
  /** Constant data (weights, folded values); absent for activations, inputs and outputs. */
  data?: Float32Array;
}

export interface NativeOpSpec {
  /** A native op type from native/OPS.md ("conv", "binary", ...). */
  type: string;
  /** The graph layer this op implements, for errors and performance counters. */
  name: string;
  inputs: number[];
  outputs: number[];
  attrs: Record<string, NativeAttr>;
}

export interface NativeProgramSpec {
  maxBatch: number;
  /** OpenMP threads used by each run (oneDNN and own kernels share them). */
  threads: number;
  /** Every sample is computed from its own input alone: threads may each take whole samples (default false). */
  independentSamples?: boolean;
  /** How runs spread over the threads (default "auto"; see Strategy in native/src/program.h). */
  parallel?: "auto" | "layers" | "samples";
  tensors: NativeTensorSpec[];
  /** In execution order. */
  ops: NativeOpSpec[];
  /** Tensor ids written by the user before a run. */
  inputs: number[];
  /** Tensor ids read by the user after a run. */
  outputs: number[];
}

export interface NativeRequest {
  /** Memory of a program input or output sized for the maximum batch; stable for the request's life. */
  buffer(id: number): ArrayBuffer;
  /**
   * Runs the program for batch n, on this thread when its last run at n took under 1 ms and nothing
   * else runs, else on the addon's inference thread; resolves with the time of each step in µs.
   */
  run(n: number): Promise<Float64Array>;
  /** The strategy runs at batch n use: "layers", "single" or "samples" (the one being tried while the request still measures). */
  strategy(n: number): string;
  /** A run at batch n follows (its inputs are being written): wakes the threads it will use (the inference thread and its OpenMP team, or the sample helpers). */
  prepare(n: number): void;
}

/**
 * How a request picks its strategy at one batch (native/src/strategy_tuner.h), driven by the
 * run times a caller gives it: tests replay a sequence of runs without a clock.
 */
export interface NativeStrategyTuner {
  /** The strategy of the next run: the candidate being measured or probed, else the chosen one. */
  next(): string;
  /** Records the wall time (µs) of a run made with next(); handoffUs is charged to runs through the Runner. */
  record(micros: number, handoffUs?: number): void;
  /** True until a choice is made, and again while a choice is measured anew. */
  measuring(): boolean;
}

/** One step a run executes: a spec op, or a layout reorder the executor inserted. */
export interface NativeStep {
  name: string;
  /** Native op type ("conv", "reorder", ...). */
  type: string;
  /** Implementation at the maximum batch, e.g. oneDNN's "jit:avx2" or "ref" for own kernels. */
  impl: string;
  /** Precision the step computes in: "FP32", or "U8" for an int8 convolution or matmul (u8 activations, s8 weights). */
  precision?: string;
  /** Index into the spec's ops; -1 for an inserted reorder. */
  op: number;
  /** Tensor ids read and written (ids past the spec's tensors are ones the executor inserted). */
  inputs: number[];
  outputs: number[];
  /** Layout of each output: "plain", "nhwc", "nChw8c" or "nChw16c". */
  outLayouts: string[];
}

/** How a request's memory is laid out (see native/src/program.h). */
export interface NativePlan {
  /** Bytes of the arena that internal tensors share. */
  arenaBytes: number;
  /** Per tensor id (spec tensors, then those the executor inserted): layout and buffer (-1: constant or unused). */
  tensors: { layout: string; buffer: number }[];
  /** External buffers (program inputs/outputs) are allocated alone; the others lie at `offset` in the arena. */
  buffers: { bytes: number; external: boolean; offset: number }[];
}

export interface NativeProgram {
  createRequest(): NativeRequest;
  /** The steps of every run, in order (run() reports one time per step). */
  steps(): NativeStep[];
  plan(): NativePlan;
}

export interface NativeAddon {
  Program: new (spec: NativeProgramSpec) => NativeProgram;
  /** candidates: "layers", "single" or "samples", the first kept on near-ties. */
  StrategyTuner: new (candidates: string[]) => NativeStrategyTuner;
  /** Op types the addon implements. */
  opTypes(): string[];
  /** oneDNN version string, e.g. "2.6.3". */
  dnnlVersion(): string;
  /** Hardware threads available. */
  hardwareConcurrency(): number;
  /** FP32 GFLOP/s of `threads` threads running FMAs for `ms` ms each (native/src/peak.cc); blocks. */
  fmaPeakGflops(threads: number, ms: number): number;
  /** The instruction set oneDNN dispatches to, after ONEDNN_MAX_CPU_ISA: "avx2", "avx512_core_bf16", ... */
  cpuIsa(): string;
  /** Whether the CPU plugin fuses depthwise-separable chains into `sepconv` here (native/src/fused_rows.h). */
  sepconvFusionPays(): boolean;
  /** Prepared constants (reordered or packed weights) made so far in the process; programs of the same model share them instead of making them again (native/src/shared_constants.h). */
  sharedConstantsMade(): number;
  /**
   * The helper threads of runs split by samples (native/src/sample_team.h): the CPUs they may use
   * (empty before the first such run), the CPU they are kept off (the caller's at the last run, -1
   * where none was: one CPU only), and how many `prepare` calls found one asleep and woke it.
   */
  sampleTeamState(): { helpers: number[]; keptOff: number; prewakes: number };
  /** How many `prepare` calls found the inference thread a run would go to asleep and woke it (native/src/runner.h). */
  runnerWarmUps(): number;
  /**
   * Region (x, y, w, h) of a packed 8-bit frame (`bgr`: bytes B, G, R per pixel, else R, G, B)
   * resized bilinearly to width×height, written as planes B, G, R into `out` at `offset`
   * (native/src/preprocess.h). Throws TypeError/RangeError for arguments that do not fit.
   */
  toPlanarBgr(
    data: Uint8Array,
    frameWidth: number,
    frameHeight: number,
    bgr: boolean,
    x: number,
    y: number,
    w: number,
    h: number,
    width: number,
    height: number,
    out: Float32Array,
    offset: number,
  ): void;
}

/**
 * Spins of an idle OpenMP thread before it sleeps (GOMP_SPINCOUNT). By default it spins 300,000
 * times (~9 ms here) after each parallel region and takes the core from whatever runs next: a
 * request split by samples, or another engine. 3,000 spins (~150 µs) keep it awake through the
 * gaps between the layers of one run, small steps run on one thread included (1,000 made head
 * pose at n = 1 ~30% slower).
 */
const GOMP_SPIN_COUNT = "3000";

let cached: NativeAddon | undefined;

/** Where node-gyp writes the addon, in a checkout and in an installed package alike. */
export const ADDON_FILE = path.resolve(__dirname, "../../../build/Release/dynbatch_native.node");

export function loadAddon(): NativeAddon {
  if (!cached) {
    // libgomp reads this once, when the addon loads it; a value the user set is kept.
    process.env.GOMP_SPINCOUNT ??= GOMP_SPIN_COUNT;
    const file = ADDON_FILE;
    // Installed without a toolchain (scripts/install-native.js skipped the build), or a library
    // it links is gone: a typed error naming the packages, not a crash deep in a require.
    if (!fs.existsSync(file)) throw unavailableError(file, undefined);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file) as NativeAddon;
    } catch (e) {
      throw unavailableError(file, e as Error);
    }
  }
  return cached;
}

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

/** The GPU half of the addon: the same program spec as the CPU backend, compiled once on an OpenCL device. */
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

const GPU_CODES: ReadonlySet<string> = new Set<GpuErrorCode>(["GPU_BUILD_FAILED", "GPU_OUT_OF_MEMORY", "GPU_RUNTIME"]);

/**
 * The addon throws plain Errors carrying a `code` (and, from OpenCL, `clStatus` and `buildLog`);
 * users get the typed class for it. Only the GPU half throws the GPU codes.
 */
export function typedNativeError(e: unknown, file: string, device: string): DynbatchError {
  if (e instanceof DynbatchError) return e;
  const err = e as Error & { code?: string; clStatus?: number; buildLog?: string };
  if (err.code === "GPU_UNAVAILABLE") return new GpuUnavailableError(device, err.message);
  if (err.code && GPU_CODES.has(err.code))
    return new GpuError(err.code as GpuErrorCode, `${file}: ${err.message}`, err.clStatus, err.buildLog);
  return new NativeError(`${file}: ${err.message}${err.code && err.code !== "NATIVE" ? ` (${err.code})` : ""}`);
}
