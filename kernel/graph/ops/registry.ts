import { ConstTensor, DType, Node } from "../graph";
import { basicOps } from "./basic";
import { eltwiseOps } from "./eltwise";
import { activationOps } from "./activation";
import { convOps } from "./conv";
import { poolingOps } from "./pooling";
import { matmulOps } from "./matmul";
import { reduceOps } from "./reduce";
import { normOps } from "./normalization";
import { shapeOps } from "./shape_ops";
import { sliceOps } from "./slicing";
import { resizeOps } from "./resize";
import { detectionOps } from "./detection";

/** What an op sees during inference: its node and, per input, the shape, dtype and constant value (if known). */
export interface InferCtx {
  node: Node;
  shapes: number[][];
  dtypes: DType[];
  consts: (ConstTensor | undefined)[];
  file: string;
}

export interface OutputInfo {
  shape: number[];
  dtype: DType;
}

export interface OpDef {
  type: string;
  /** One entry per output. */
  infer(ctx: InferCtx): OutputInfo[];
  /** Evaluates the op when every input is constant (ShapeOf: when the input shape is known). */
  fold?(ctx: InferCtx): ConstTensor[];
}

const registry = new Map<string, OpDef>();
for (const group of [
  basicOps,
  eltwiseOps,
  activationOps,
  convOps,
  poolingOps,
  matmulOps,
  reduceOps,
  normOps,
  shapeOps,
  sliceOps,
  resizeOps,
  detectionOps,
]) {
  for (const def of group) registry.set(def.type, def);
}

export function getOpDef(type: string): OpDef | undefined {
  return registry.get(type);
}

export function knownOpTypes(): string[] {
  return [...registry.keys()].sort();
}
