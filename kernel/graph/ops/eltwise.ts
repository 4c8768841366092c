import { attrBool } from "../attrs";
import { ModelError } from "../../errors";
import { ConstTensor, DType } from "../graph";
import type { InferCtx, OpDef } from "./types";
import { broadcastIndex, eltwiseShape, expectInputs, isFloat, makeTensor, numel } from "./util";

type BinFn = (a: number, b: number, intMath: boolean, ctx: InferCtx) => number;

function foldBroadcast(ctx: InferCtx, outShape: number[], dtype: DType, fn: (vals: number[]) => number): ConstTensor {
  const ins = ctx.consts as ConstTensor[];
  const maps = ins.map((t) => broadcastIndex(t.shape, outShape));
  const n = numel(outShape);
  const out = new Float64Array(n);
  const vals = new Array<number>(ins.length);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < ins.length; i++) vals[i] = ins[i].data[maps[i][k]];
    out[k] = fn(vals);
  }
  return makeTensor(dtype, outShape, out);
}

/**
 * The opsets give both operands one element type T (Power alone, as ONNX Pow, takes an integer
 * exponent). A float operand beside an integer one is a mislabelled tensor, such as an int32 Conv
 * bias: refused at read, not computed with one side reinterpreted.
 */
function expectSameKind(ctx: InferCtx): void {
  const [a, b] = ctx.dtypes;
  if (isFloat(a) !== isFloat(b)) {
    throw new ModelError(ctx.file, `operands must have one element type, got ${a} and ${b}`, ctx.node.name);
  }
}

function binary(type: string, fn: BinFn): OpDef {
  const def: OpDef = {
    type,
    infer(ctx) {
      expectInputs(ctx, 2);
      if (type !== "Power") expectSameKind(ctx);
      return [{ shape: eltwiseShape(ctx, ctx.shapes), dtype: ctx.dtypes[0] }];
    },
    fold(ctx) {
      const [o] = def.infer(ctx);
      const intMath = !isFloat(o.dtype);
      return [foldBroadcast(ctx, o.shape, o.dtype, (v) => fn(v[0], v[1], intMath, ctx))];
    },
  };
  return def;
}

function compare(type: string, fn: (a: number, b: number) => boolean): OpDef {
  const def: OpDef = {
    type,
    infer(ctx) {
      expectInputs(ctx, 2);
      expectSameKind(ctx);
      return [{ shape: eltwiseShape(ctx, ctx.shapes), dtype: "boolean" }];
    },
    fold(ctx) {
      const [o] = def.infer(ctx);
      return [foldBroadcast(ctx, o.shape, "boolean", (v) => (fn(v[0], v[1]) ? 1 : 0))];
    },
  };
  return def;
}

/** Integer Divide rounds toward -inf when m_pythondiv (the default), toward zero otherwise. */
const divide: BinFn = (a, b, intMath, ctx) => {
  if (!intMath) return a / b;
  if (b === 0) return 0;
  const q = a / b;
  return attrBool(ctx.node.attrs, "m_pythondiv", true) ? Math.floor(q) : Math.trunc(q);
};

const select: OpDef = {
  type: "Select",
  infer(ctx) {
    expectInputs(ctx, 3);
    return [{ shape: eltwiseShape(ctx, ctx.shapes), dtype: ctx.dtypes[1] }];
  },
  fold(ctx) {
    const [o] = select.infer(ctx);
    return [foldBroadcast(ctx, o.shape, o.dtype, (v) => (v[0] !== 0 ? v[1] : v[2]))];
  },
};

const logicalNot: OpDef = {
  type: "LogicalNot",
  infer(ctx) {
    expectInputs(ctx, 1);
    return [{ shape: [...ctx.shapes[0]], dtype: "boolean" }];
  },
  fold(ctx) {
    const t = ctx.consts[0]!;
    return [
      makeTensor(
        "boolean",
        t.shape,
        Array.from(t.data, (x) => (x === 0 ? 1 : 0)),
      ),
    ];
  },
};

export const eltwiseOps: OpDef[] = [
  binary("Add", (a, b) => a + b),
  binary("Subtract", (a, b) => a - b),
  binary("Multiply", (a, b) => a * b),
  binary("Divide", divide),
  binary("Power", (a, b) => Math.pow(a, b)),
  binary("Maximum", (a, b) => Math.max(a, b)),
  binary("Minimum", (a, b) => Math.min(a, b)),
  binary("SquaredDifference", (a, b) => (a - b) * (a - b)),
  binary("FloorMod", (a, b) => (b === 0 ? 0 : a - Math.floor(a / b) * b)),
  binary("Mod", (a, b) => (b === 0 ? 0 : a % b)),
  compare("Equal", (a, b) => a === b),
  compare("NotEqual", (a, b) => a !== b),
  compare("Less", (a, b) => a < b),
  compare("LessEqual", (a, b) => a <= b),
  compare("Greater", (a, b) => a > b),
  compare("GreaterEqual", (a, b) => a >= b),
  compare("LogicalAnd", (a, b) => a !== 0 && b !== 0),
  compare("LogicalOr", (a, b) => a !== 0 || b !== 0),
  compare("LogicalXor", (a, b) => (a !== 0) !== (b !== 0)),
  logicalNot,
  select,
];
