/** The seed scenario: a face cascade per video frame with dynamic batching, and its drawing. */
export { FaceCascade, STRATEGIES, STRATEGY_LABELS, eyeBox, summarize } from "./pipeline";
export type {
  Strategy,
  CascadeOptions,
  CascadeOutputs,
  FaceResult,
  EyeResult,
  FrameResult,
  OutsideTimes,
  ProcessOptions,
  StrategyRun,
  StrategySummary,
} from "./pipeline";
export { facesFrom } from "./faces";
export type { Face } from "./faces";
export { toPlanarBgr } from "./preprocess";
export type { Box } from "./preprocess";
export { annotate, headAxes, ANNOTATION_COLORS } from "./annotate";
export { frameTimesSvg, axisMax } from "./chart";
export { cropFaces, replayStreams } from "./streams";
export type { FaceCrops, StreamRunners, ReplayOptions, StreamReport } from "./streams";
