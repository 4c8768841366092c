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
import { interpolateOps } from "./interpolate";
import { detectionOps } from "./detection";
import { quantizeOps } from "./quantize";
import type { OpDef } from "./types";

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
  interpolateOps,
  detectionOps,
  quantizeOps,
]) {
  for (const def of group) registry.set(def.type, def);
}

export function getOpDef(type: string): OpDef | undefined {
  return registry.get(type);
}

export function knownOpTypes(): string[] {
  return [...registry.keys()].sort();
}
