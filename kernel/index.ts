/** dynbatch: OpenVINO-style dynamic batching for TypeScript. */
export { IECore } from "./runtime/core";
export type { ConfigMap } from "./runtime/core";
export type { ReadNetworkOptions } from "./runtime/core";
export { CNNNetwork } from "./runtime/network";
export type { PortInfo, LayerInfo } from "./runtime/network";
export type { DimInfo } from "./runtime/network";
export { ExecutableNetwork } from "./runtime/executable";
export { InferRequest } from "./runtime/request";
export type { PerfCount } from "./runtime/request";
export { Blob } from "./runtime/blob";
export * from "./errors";
export type { TopologyReport, LayerVerdict, LatencyReport, LatencyPoint, LatencyStats, LatencyMode } from "./schema";
export { benchmark, countFlops, measurePeakGflops, generatedModelPath, GENERATED_MODELS } from "./bench";
export type { BenchmarkOptions, BenchProgress, FlopCount } from "./bench";
export { display, newDisplay, toMimeBundle, LiveDisplay, TOPOLOGY_MIME, LATENCY_MIME } from "./display";
export type { Displayable, MimeBundle } from "./display";
export * from "./video";
export * from "./cascade";
