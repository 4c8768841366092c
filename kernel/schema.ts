/**
 * Report types shared by the kernel and the JupyterLab extension. Types only and no imports, so
 * the extension can copy or reference this file and a report has exactly one definition.
 * Every report is plain JSON: it crosses the notebook's MIME bundle unchanged.
 */

/** How the topology was judged. */
export type AnalysisMode = "strict" | "shape-aware";

/** A layer's verdict: "constant" layers are weights or shape computations folded at load, not layers for the rule. */
export type Verdict = "supported" | "unsupported" | "constant";

/** One node of the analysed graph. Every string in it comes from the model file: render it as text, never as markup. */
export interface LayerVerdict {
  /** Node id in the graph (IR layer id or reader-assigned); unique within the report. */
  id: number;
  /** Layer name as written in the model. */
  name: string;
  /** Opset operation type ("Convolution", "Reshape", ...). */
  type: string;
  /** The legacy Inference Engine layer type the op maps to ("Eltwise", "ScaleShift", "Permute", ...). */
  legacyType: string;
  /** Whether this layer allows a dynamic batch. */
  verdict: Verdict;
  /** Why: the rule applied, or for shape-aware mode the proof / counter-example. */
  reason: string;
  /** Ids of the nodes feeding this one, in input-port order (a node appears once per edge). */
  inputs: number[];
  /**
   * Shape of output 0 (for a Result: of the value it returns). Numbers are fixed dims; in
   * shape-aware mode dims that depend on the batch are strings in terms of N ("N", "2N", "512N+3").
   * Empty for a scalar.
   */
  outputShape: (number | string)[];
}

/** The result of a dynamic-batch topology analysis of one network. */
export interface TopologyReport {
  /** Model name (IR net name or ONNX graph name). */
  model: string;
  /** Which analysis produced the report. */
  mode: AnalysisMode;
  /** True iff no layer is "unsupported": the network may be loaded with a dynamic batch. */
  supported: boolean;
  /** Every node of the graph in topological order, constants included. */
  layers: LayerVerdict[];
  summary: {
    /** Number of entries in `layers`. */
    total: number;
    /** Layers with verdict "supported". */
    supported: number;
    /** Layers with verdict "unsupported". */
    unsupported: number;
    /** Layers with verdict "constant". */
    constant: number;
    /** Names of the unsupported layers, in topological order. */
    blocking: string[];
  };
  /**
   * The same network judged in the other mode, when a display carries both (`display([strict,
   * shapeAware])`); the JupyterLab view then offers a strict/shape-aware toggle. Never nested.
   */
  alternate?: TopologyReport;
  /**
   * The changes fixForDynamicBatch() applied, when this is the report of the network it returned
   * (each change's `layer` names a layer of `layers`). Absent for a network read from a file.
   */
  fixes?: BatchFixChange[];
}

/** How a latency point was measured. */
export type LatencyMode = "dynamic" | "static" | "loop" | "ort";

/** Latency statistics in milliseconds over the measured iterations of one point. */
export interface LatencyStats {
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  min: number;
  max: number;
}

/** One measurement: a batch run a given way. */
export interface LatencyPoint {
  /** Samples per inference request. */
  batch: number;
  /**
   * "dynamic": one network loaded with the maximum batch, run with setBatch(batch);
   * "static": a network compiled for exactly `batch`; "loop": `batch` requests of batch 1 in sequence;
   * "ort": onnxruntime-node as an external reference.
   */
  mode: LatencyMode;
  /** Per-request latency. */
  latencyMs: LatencyStats;
  /** Samples per second at the median latency (batch / p50 * 1000). */
  throughput: number;
  /** Convolution and matmul GFLOP/s at the median latency (2 FLOPs per multiply-add). */
  gflops?: number;
  /** Number of timed requests behind the statistics. */
  runs?: number;
  /**
   * For dynbatch's batched points (dynamic, static) where onnxruntime ran at the same batch: the
   * largest difference of the request's outputs from onnxruntime's on the same inputs, relative to
   * the largest |value| of each onnxruntime output (max over outputs).
   */
  maxErrorVsOrt?: number;
}

/** A latency-versus-batch sweep of one network on one device. */
export interface LatencyReport {
  /** Model name. */
  model: string;
  /** Device the sweep ran on ("CPU", "GPU"), optionally with a description of the hardware. */
  device: string;
  /** The maximum batch the dynamic network was loaded with. */
  limit: number;
  /** Measurements, in the order they were taken. */
  points: LatencyPoint[];
  /** Threads each engine used (dynbatch CPU_THREADS_NUM, onnxruntime intra-op threads). */
  threads?: number;
  /** Convolution and matmul GFLOP of one sample. */
  gflopPerSample?: number;
  /** The machine's FP32 peak GFLOP/s from the FMA microbenchmark of the same run. */
  peakGflops?: number;
  /** The ISA oneDNN dispatched to during the sweep, with ONEDNN_MAX_CPU_ISA when set: "avx512_core_bf16", "avx2 (ONEDNN_MAX_CPU_ISA=AVX2)". */
  isa?: string;
  /** Modes that could not run on this model, and why. */
  skipped?: { mode: LatencyMode; reason: string }[];
  /** When the sweep ran (ISO 8601). */
  date?: string;
  /**
   * Sweeps of the same model on other devices, when a display carries several (`display([cpu,
   * gpu])`); the JupyterLab view draws them as more series on the same charts. Never nested.
   */
  others?: LatencyReport[];
}

/** How fixForDynamicBatch() rewrote a layer ("none": no rewrite of this layer keeps the batch). */
export type BatchFixKind = "reshape-keep-batch" | "flatten-keep-batch" | "transpose-keep-batch" | "split" | "none";

/** A split (kind "split"): the body runs at batch n, the tail once per sample at batch 1, its outputs joined. */
export interface BatchFixSplit {
  /** The layers the analysis cannot prove (they mix samples); the tail starts at them. */
  mixing: string[];
  /** Every layer of the tail, constants left out. */
  tail: string[];
  /** The tensors the tail reads from the body, with their per-sample shapes. */
  cuts: { tensor: string; shape: number[] }[];
  /** Each output of the network: the part that computes it and how the samples join ("concat" along axis 0, or "detections" rows). */
  outputs: { output: string; from: "body" | "tail"; join: "concat" | "detections" }[];
}

/** Why a rewrite is correct: each part is checked independently. */
export interface BatchFixProof {
  /** The model's own batch, at which the rewritten network has every tensor shape of the original (so it computes the same). */
  sameAtBatch: number;
  /** The shape-aware analysis' proof for the rewritten layer ("axis 0 stays N: Reshape [N,128,2,2] → [N,512] …"). */
  analysis: string;
  /** Batch-n runs of the rewritten network against n batch-1 runs of the original on the same random samples. */
  numeric: { n: number; maxAbsError: number }[];
}

/** One layer fixForDynamicBatch() rewrote, or would have and did not. Strings from the model are text, not markup. */
export interface BatchFixChange {
  /** Layer name as written in the model. */
  layer: string;
  /** Its op type ("Reshape", "Flatten"). */
  type: string;
  kind: BatchFixKind;
  /** What blocked the dynamic batch: the layer's verdict before the rewrite. */
  blocked: string;
  /** The layer before and after ("Reshape [1,-1]" → "Reshape [0,-1] special_zero"); empty when kind is "none". */
  before: string;
  after: string;
  /** Whether the rewritten network carries the change. */
  applied: boolean;
  /** Why it was not applied; empty when applied. */
  reason: string;
  /** The proof of an applied change; null when none was found. */
  proof: BatchFixProof | null;
  /** Kind "split" only, when applied: where the network was cut. */
  split?: BatchFixSplit;
}

/** Spread of one layer's (or one request's) time over the timed runs of one batch, in microseconds. */
export interface ProfileStats {
  median: number;
  /** 25th and 75th percentiles: the spread a box plot draws. */
  p25: number;
  p75: number;
  min: number;
  max: number;
}

/** The least-squares line `time ≈ fixedUs + perSampleUs · n` through a layer's medians. */
export interface ProfileFit {
  /** Cost of running the layer at all, whatever the batch (µs). */
  fixedUs: number;
  /** Cost of each sample (µs per sample). */
  perSampleUs: number;
  /** Coefficient of determination of the line over the medians: 1 is a perfect line; 1 too when every median is equal and the line goes through them. */
  r2: number;
}

/** One layer of the compiled network. Every string comes from the model or the device: render it as text, never as markup. */
export interface ProfileLayer {
  /** Layer name as the device reports it (the model's name, or a name the plugin gave a layer it added). */
  name: string;
  /** Opset operation type. */
  type: string;
  /** The implementation that ran ("jit:avx512_core", "ref", ...); "undef" for a fused layer. */
  execType: string;
  /** Precision the layer ran in ("FP32", "U8" for an int8 convolution or matmul); absent for a fused layer or where the device does not say. */
  precision?: string;
  /** The layer whose kernel computes this one (a post-op); such a layer has no time of its own. */
  fusedInto?: string;
  /** Id of the node of `graph` with this name, when there is one. */
  node?: number;
  /** Time per batch, in the order of `ProfileReport.batches`; absent for a fused layer. */
  timeUs?: ProfileStats[];
  /** Fit of `timeUs[..].median` against the batch; absent for a fused layer or with fewer than two batches. */
  fit?: ProfileFit;
}

/** A node of the network's graph, for drawing it (the non-constant layers of the load-time analysis). */
export interface ProfileNode {
  id: number;
  name: string;
  type: string;
  /** Ids of the nodes feeding this one, all earlier in `graph`. */
  inputs: number[];
}

/** Where one batch's request time went. `layersUs + outsideUs === wallUs`. */
export interface ProfileTotal {
  batch: number;
  /** Median time of `infer()` as the caller sees it. */
  wallUs: number;
  /** Sum of the layers' median times. */
  layersUs: number;
  /** The rest: dispatch, buffer handling, threads waking; negative only if the layers' medians add up to more than the request's. */
  outsideUs: number;
}

/** Per-layer times of one compiled network against the batch (`exec.profile()`). */
export interface ProfileReport {
  model: string;
  /** Device the network was compiled for ("CPU", "GPU"). */
  device: string;
  /** The measured batches, ascending. */
  batches: number[];
  /** Timed runs per batch. */
  runs: number;
  /** Every layer of the compiled network, in execution order. */
  layers: ProfileLayer[];
  /** One entry per batch, in the order of `batches`. */
  totals: ProfileTotal[];
  /** The graph to draw the layers on; absent when the network was loaded without a dynamic batch (no analysis). */
  graph?: ProfileNode[];
  /** When the profile ran (ISO 8601). */
  date?: string;
}

/** Latency percentiles a caller saw, in milliseconds, from its sample's arrival to its answer. */
export interface FrontierLatency {
  p50: number;
  p90: number;
  p99: number;
}

/** What simulateBatching() predicted for the same arrivals and policy, from the measured latency-vs-batch curve. */
export interface FrontierSimulation {
  throughput: number;
  latencyMs: FrontierLatency;
}

/** One load test of one policy: Poisson arrivals at `rate`, and what callers saw. */
export interface FrontierPoint {
  /** Samples offered per second. */
  rate: number;
  /** `rate` as a multiple of the report's `saturation`, when it has one. */
  load?: number;
  /** How long this test offered samples (ms), when longer than the report's durationMs (frontier's minSamples). */
  durationMs?: number;
  /** Samples sent; answered; refused or failed, by error code. */
  offered: number;
  completed: number;
  errors: Record<string, number>;
  /** Answered samples per second, from the first arrival to the last answer. */
  throughput: number;
  latencyMs: FrontierLatency;
  /** Batch size n (as a string key) → batches of that size that ran. */
  histogram: Record<string, number>;
  /** Rows computed only to fill a static batch. */
  paddedSamples: number;
  /** The simulator's prediction for the same arrivals, when the report had a cost curve. */
  simulated?: FrontierSimulation;
}

/** A policy's points, by ascending rate. */
export interface FrontierSeries {
  /** Shown name: "maxDelay 0.25 ms", "no batching (2 requests)". */
  policy: string;
  /** "batcher": samples coalesced by a Batcher; "requests": one request per sample, `requests` in parallel. */
  kind: "batcher" | "requests";
  /** The batcher's maxDelayUs (kind "batcher" only). */
  maxDelayUs?: number;
  /** The batcher's dispatch policy (kind "batcher" only; absent in reports from before it existed: "deadline"). */
  dispatch?: "deadline" | "work-conserving";
  /** Infer requests in flight at once. */
  requests: number;
  points: FrontierPoint[];
  /** The highest rate this policy kept up with, when the report has the batch latency (frontier_check.ts). */
  sustained?: FrontierSustained;
}

/**
 * A policy's sustained throughput: the highest offered rate, below the first one it failed, at
 * which it answered every sample, at ≥ 95% of the offered rate, with p99 ≤ its maxDelay + 2× the
 * latency of a batch at the limit.
 */
export interface FrontierSustained {
  /** Samples offered per second there (0: it failed even the lowest rate). */
  rate: number;
  /** What it answered there (samples/s). */
  throughput: number;
  /** The p99 bound it was held to (ms). */
  boundMs: number;
  /** Whether it kept up at every measured rate: the sustained rate is then at least `rate`. */
  everyRate: boolean;
}

/** Throughput against tail latency for several batching policies under the same offered loads (`frontier()`). */
export interface FrontierReport {
  model: string;
  /** Device the network ran on. */
  device: string;
  /** The network's batch limit: the largest batch a batcher forms. */
  limit: number;
  /** Whether batches ran at their size (setBatch) rather than padded to the static batch. */
  dynamic: boolean;
  /** Each load test offered samples for this long (ms). */
  durationMs: number;
  /** Seed of the arrival times: every policy saw exactly the same arrivals at a rate. */
  seed: number;
  /** Samples per second one request per sample sustained in a closed loop (when measured): where it saturates. */
  saturation?: number;
  /** Median latency (ms) of one batch at the limit, from the cost curve, when the report had one. */
  batchLatencyMs?: number;
  /**
   * The batcher's cost per full batch outside the network (ms), measured in the same run: a
   * closed loop of full batches, their period minus batchLatencyMs. The simulator adds it to a
   * full batch, loneOverheadMs to a batch of 1, the linear mix between.
   */
  batchOverheadMs?: number;
  /** The same for a lone sample (ms): one caller in a closed loop, its p50 minus the curve's latency at 1. */
  loneOverheadMs?: number;
  /**
   * What a lone sample costs on top of loneOverheadMs after a silence (sparse arrivals, ms): the
   * simulator adds it to a batch that finds its request idle (kernel/batching/overheads.ts).
   */
  wakeMs?: number;
  /** One plain request per sample: its closed-loop period per sample at saturation minus the curve's latency at 1 (ms). */
  plainOverheadMs?: number;
  /** One plain request per sample after a silence: its p50 minus the curve at 1 and plainOverheadMs (ms). */
  plainWakeMs?: number;
  series: FrontierSeries[];
  /** When the run started (ISO 8601). */
  date?: string;
}
