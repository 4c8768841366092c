import { attrStr } from "../attrs";
import type { InferCtx, OpDef } from "./types";
import { expectInputs, fail, makeTensor, parseDType } from "./util";

/** Parameter: prepare() sets its shape; inference reports what is on the port. */
const parameter: OpDef = {
  type: "Parameter",
  infer(ctx) {
    const out = ctx.node.outputs[0];
    if (!out) fail(ctx, "Parameter has no output port");
    return [{ shape: [...out.shape], dtype: out.dtype }];
  },
};

const constant: OpDef = {
  type: "Const",
  infer(ctx) {
    const v = ctx.node.value;
    if (!v) fail(ctx, "Const has no value");
    return [{ shape: [...v.shape], dtype: v.dtype }];
  },
};

/** Result has no output port in IR; its shape is its input's. */
const result: OpDef = {
  type: "Result",
  infer(ctx) {
    expectInputs(ctx, 1);
    return [];
  },
};

function convertTo(ctx: InferCtx, dtypeName: string) {
  expectInputs(ctx, 1, 2);
  return [{ shape: [...ctx.shapes[0]], dtype: parseDType(ctx, dtypeName) }];
}

const convert: OpDef = {
  type: "Convert",
  infer: (ctx) => convertTo(ctx, attrStr(ctx.node.attrs, "destination_type")),
  fold: (ctx) => foldConvert(ctx, convert),
};

const convertLike: OpDef = {
  type: "ConvertLike",
  infer: (ctx) => {
    expectInputs(ctx, 2);
    return [{ shape: [...ctx.shapes[0]], dtype: ctx.dtypes[1] }];
  },
  fold: (ctx) => foldConvert(ctx, convertLike),
};

function foldConvert(ctx: InferCtx, def: OpDef) {
  const [o] = def.infer(ctx);
  return [makeTensor(o.dtype, o.shape, ctx.consts[0]!.data)];
}

export const basicOps: OpDef[] = [parameter, constant, result, convert, convertLike];
