/** Server-side dynamic batching: single-sample calls coalesced into batches (see batcher.ts). */
export { Batcher } from "./batcher";
export type { BatcherOptions, BatcherInferOptions, BatcherStats, Priority, SampleInputs } from "./batcher";
export { realClock } from "./clock";
export type { DispatchPolicy } from "./dispatch";
export type { Clock, TimerOptions } from "./clock";
export { batcherOf } from "./auto_batch";
export { loadTest } from "./loadtest";
export type { LoadTestOptions, LoadReport } from "./loadtest";
export { poissonArrivals, streamArrivals } from "./arrivals";
export type { StreamOptions } from "./arrivals";
export { simulateBatching } from "./simulate";
export { queueingBound } from "./bound";
export type { QueueingBound, QueueingBoundOptions } from "./bound";
export type { BatchingPolicy, SimulationOptions, SimulationReport } from "./simulate";
export { frontier, saturationRate, policyLabel, DEFAULT_POLICIES, DEFAULT_LOADS } from "./frontier";
export type { FrontierOptions, FrontierPolicy } from "./frontier";
export {
  bestDispatch,
  frontierTargets,
  simulationErrors,
  meanBatch,
  verdict,
  sustainedOf,
  keptUp,
  latencyBound,
} from "./frontier_check";
export type { FrontierTarget, SimulationError } from "./frontier_check";
export { requestPool } from "./pool";
export type { SampleRunner } from "./pool";
