import { attrNum } from "../attrs";
import type { InferCtx, OpDef } from "./types";
import { broadcastShapes, expectInputs, fail, makeTensor } from "./util";

/** Shape-preserving op with minIn..maxIn inputs (extras are parameters such as Swish beta); folds with `fn` when given. */
function unary(type: string, fn?: (x: number, ctx: InferCtx) => number, minIn = 1, maxIn = minIn): OpDef {
  const def: OpDef = {
    type,
    infer(ctx) {
      expectInputs(ctx, minIn, maxIn);
      return [{ shape: [...ctx.shapes[0]], dtype: ctx.dtypes[0] }];
    },
  };
  if (fn && minIn === 1 && maxIn === 1) {
    def.fold = (ctx) => {
      const t = ctx.consts[0]!;
      return [
        makeTensor(
          t.dtype,
          t.shape,
          Array.from(t.data, (x) => fn(x, ctx)),
        ),
      ];
    };
  }
  return def;
}

const prelu: OpDef = {
  type: "PReLU",
  infer(ctx) {
    expectInputs(ctx, 2);
    const [x, slope] = ctx.shapes;
    // A 1-D slope matches the channel axis (1); anything else must numpy-broadcast onto x.
    const perChannel = slope.length === 1 && x.length >= 2 && (slope[0] === x[1] || slope[0] === 1);
    if (!perChannel && !sameAfterBroadcast(ctx, x, slope)) {
      fail(ctx, `slope shape [${slope}] does not fit data shape [${x}]`);
    }
    return [{ shape: [...x], dtype: ctx.dtypes[0] }];
  },
};

function sameAfterBroadcast(ctx: InferCtx, x: number[], s: number[]): boolean {
  if (s.length > x.length) return false;
  const b = broadcastShapes(ctx, x, s);
  return b.every((d, i) => d === x[i]);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.log1p(Math.exp(x));

export const activationOps: OpDef[] = [
  unary("ReLU", (x) => Math.max(x, 0)),
  prelu,
  unary("Sigmoid", sigmoid),
  unary("Tanh", Math.tanh),
  unary("Exp", Math.exp),
  unary("Log", Math.log),
  unary("Abs", Math.abs),
  unary("Sqrt", Math.sqrt),
  unary("Negative", (x) => -x),
  unary("Floor", Math.floor),
  unary("Ceiling", Math.ceil),
  unary("Sign", Math.sign),
  unary("Sin", Math.sin),
  unary("Cos", Math.cos),
  unary("Erf"),
  unary("Elu", (x, ctx) => (x >= 0 ? x : attrNum(ctx.node.attrs, "alpha") * (Math.exp(x) - 1))),
  unary("Clamp", (x, ctx) => Math.min(Math.max(x, attrNum(ctx.node.attrs, "min")), attrNum(ctx.node.attrs, "max"))),
  unary("HSwish", (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6),
  unary("HSigmoid", (x) => Math.min(Math.max(x + 3, 0), 6) / 6),
  unary("Swish", undefined, 1, 2),
  unary("Gelu"),
  unary("SoftPlus", softplus),
  unary("SoftSign", (x) => x / (1 + Math.abs(x))),
  unary("Mish", (x) => x * Math.tanh(softplus(x))),
  unary("Selu", undefined, 3),
  unary("HardSigmoid", undefined, 3),
];
