import { attrNum } from "../attrs";
import type { InferCtx, OpDef } from "./types";
import { expectInputs, fail, normAxis } from "./util";

function same(ctx: InferCtx, dataIndex = 0) {
  return [{ shape: [...ctx.shapes[dataIndex]], dtype: ctx.dtypes[dataIndex] }];
}

/** SoftMax-1 takes axis in [0, rank); SoftMax-8 and LogSoftmax also accept negative axes. */
function softmax(type: string): OpDef {
  return {
    type,
    infer(ctx) {
      expectInputs(ctx, 1);
      const rank = ctx.shapes[0].length;
      const axis = attrNum(ctx.node.attrs, "axis", 1);
      if (axis < 0 && type !== "LogSoftmax" && ctx.node.version === "opset1") {
        fail(ctx, `SoftMax-1 axis must be non-negative, got ${axis}`);
      }
      normAxis(ctx, axis, rank);
      return same(ctx);
    },
  };
}

const lrn: OpDef = {
  type: "LRN",
  infer(ctx) {
    expectInputs(ctx, 1, 2);
    return same(ctx);
  },
};

/**
 * BatchNormInference-1 ports are (gamma, beta, data, mean, variance); -5 is (data, gamma, beta,
 * mean, variance). Readers keep IR port order, so the data port follows the version, falling
 * back to the only input of rank >= 2 when the version tag disagrees with the shapes.
 */
export function batchNormDataIndex(ctx: { node: { version: string }; shapes: number[][] }): number {
  const preferred = ctx.node.version === "opset1" ? 2 : 0;
  if (ctx.shapes[preferred]?.length >= 2) return preferred;
  const other = preferred === 2 ? 0 : 2;
  return ctx.shapes[other]?.length >= 2 ? other : preferred;
}

const batchNorm: OpDef = {
  type: "BatchNormInference",
  infer(ctx) {
    expectInputs(ctx, 5);
    const d = batchNormDataIndex(ctx);
    const x = ctx.shapes[d];
    if (x.length < 2) fail(ctx, `data must have rank >= 2, got [${x}]`);
    ctx.shapes.forEach((s, i) => {
      if (i !== d && (s.length !== 1 || s[0] !== x[1])) fail(ctx, `input ${i} shape [${s}] must be [${x[1]}]`);
    });
    return same(ctx, d);
  },
};

const mvn: OpDef = {
  type: "MVN",
  infer(ctx) {
    expectInputs(ctx, 1, 2);
    return same(ctx);
  },
};

const normalizeL2: OpDef = {
  type: "NormalizeL2",
  infer(ctx) {
    expectInputs(ctx, 2);
    return same(ctx);
  },
};

export const normOps: OpDef[] = [softmax("SoftMax"), softmax("Softmax"), softmax("LogSoftmax"), lrn, batchNorm, mvn, normalizeL2];
