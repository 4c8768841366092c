import { attrBool } from "../attrs";
import { ConstTensor } from "../graph";
import type { InferCtx, OpDef } from "./types";
import { constInts, expectInputs, makeTensor, normAxis, numel, rowMajorStrides } from "./util";

interface Reducer {
  init: number;
  step: (acc: number, x: number) => number;
  finish?: (acc: number, count: number) => number;
}

function reducedAxes(ctx: InferCtx): number[] {
  const rank = ctx.shapes[0].length;
  const axes = constInts(ctx, 1, "axes").map((a) => normAxis(ctx, a, rank, "reduction axis"));
  return [...new Set(axes)].sort((x, y) => x - y);
}

function reduceShape(ctx: InferCtx): number[] {
  const x = ctx.shapes[0];
  const axes = new Set(reducedAxes(ctx));
  const keep = attrBool(ctx.node.attrs, "keep_dims", false);
  const out: number[] = [];
  x.forEach((d, i) => {
    if (!axes.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

function foldReduce(ctx: InferCtx, r: Reducer, outShape: number[]): ConstTensor {
  const t = ctx.consts[0]!;
  const axes = new Set(reducedAxes(ctx));
  const x = t.shape;
  // Output coordinates ignore the reduced axes; map every input element to its output slot.
  const keptShape = x.map((d, i) => (axes.has(i) ? 1 : d));
  const keptStrides = rowMajorStrides(keptShape);
  const n = numel(keptShape);
  const acc = new Float64Array(n).fill(r.init);
  const count = numel(x) / Math.max(n, 1);
  const coord = new Array<number>(x.length).fill(0);
  for (let k = 0; k < t.data.length; k++) {
    let o = 0;
    for (let ax = 0; ax < x.length; ax++) if (!axes.has(ax)) o += coord[ax] * keptStrides[ax];
    acc[o] = r.step(acc[o], t.data[k]);
    for (let ax = x.length - 1; ax >= 0; ax--) {
      if (++coord[ax] < x[ax]) break;
      coord[ax] = 0;
    }
  }
  const vals = r.finish ? Array.from(acc, (v) => r.finish!(v, count)) : acc;
  return makeTensor(t.dtype, outShape, vals);
}

function reduce(type: string, r: Reducer, bool = false): OpDef {
  const def: OpDef = {
    type,
    infer(ctx) {
      expectInputs(ctx, 2);
      return [{ shape: reduceShape(ctx), dtype: bool ? "boolean" : ctx.dtypes[0] }];
    },
    fold(ctx) {
      return [foldReduce(ctx, r, reduceShape(ctx))];
    },
  };
  return def;
}

export const reduceOps: OpDef[] = [
  reduce("ReduceSum", { init: 0, step: (a, x) => a + x }),
  reduce("ReduceMean", { init: 0, step: (a, x) => a + x, finish: (a, c) => a / c }),
  reduce("ReduceMax", { init: -Infinity, step: (a, x) => Math.max(a, x) }),
  reduce("ReduceMin", { init: Infinity, step: (a, x) => Math.min(a, x) }),
  reduce("ReduceProd", { init: 1, step: (a, x) => a * x }),
  reduce("ReduceL1", { init: 0, step: (a, x) => a + Math.abs(x) }),
  reduce("ReduceL2", { init: 0, step: (a, x) => a + x * x, finish: (a) => Math.sqrt(a) }),
  reduce("ReduceLogicalAnd", { init: 1, step: (a, x) => (a !== 0 && x !== 0 ? 1 : 0) }, true),
  reduce("ReduceLogicalOr", { init: 0, step: (a, x) => (a !== 0 || x !== 0 ? 1 : 0) }, true),
];
