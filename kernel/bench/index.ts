/** Latency and throughput sweeps → LatencyReport (see benchmark.ts), and what they are built on. */
export { benchmark, roundOrder, ALL_MODES, DEFAULT_BATCHES } from "./benchmark";
export type { BenchmarkOptions, BenchProgress } from "./benchmark";
export { countFlops } from "./flops";
export type { FlopCount } from "./flops";
export { measurePeakGflops } from "./peak";
export { percentile, summarize, medianStable } from "./stats";
export { generatedModelPath, GENERATED_MODELS, DEFAULT_CACHE, resnet18Graph, mobilenetV2Graph } from "./models";
export { formatTable, toMarkdown, machineInfo } from "./report";
export type { MachineInfo } from "./report";
export { checkTargets, formatTargets, TARGETS } from "./targets";
export type { TargetKind, TargetResult } from "./targets";
export { BenchMismatchError, compareWithOrt, relativeError, ORT_TOLERANCE } from "./oracle";
export type { OutputTensor } from "./oracle";
export { ISA_VALUES, isaInEffect, parseIsa } from "./isa";
export { profile, DEFAULT_PROFILE_RUNS, DEFAULT_PROFILE_WARMUP } from "./profile";
export type { ProfileOptions } from "./profile";
export { buildProfile, fitLine, profileStats } from "./profile_report";
export type { BatchSamples, ProfiledLayer, ProfileSamples } from "./profile_report";
