export * from "./graph";
export * from "./attrs";
export * from "./io";
export { prepare, dimsEqual, constOutput } from "./prepare";
export type { PrepareOptions } from "./prepare";
export { getOpDef, knownOpTypes } from "./ops/registry";
export type { OpDef, InferCtx, OutputInfo } from "./ops/types";
export { numel, isFloat } from "./ops/util";
export { windowPads } from "./window";
