import { attrInts, attrStr } from "../attrs";
import type { InferCtx, OpDef } from "./types";
import { ModelError, UnsupportedError } from "../../errors";
import { constInts, expectInputs, fail, isFloat } from "./util";

export interface WindowParams {
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  autoPad: string;
}

/** Reads strides/dilations/pads/auto_pad for `n` spatial axes, with IR defaults. */
export function windowParams(ctx: InferCtx, n: number, withDilations = true): WindowParams {
  const a = ctx.node.attrs;
  const ones = new Array<number>(n).fill(1);
  const zeros = new Array<number>(n).fill(0);
  const p: WindowParams = {
    strides: attrInts(a, "strides"),
    dilations: withDilations ? attrInts(a, "dilations", ones) : ones,
    padsBegin: attrInts(a, "pads_begin", zeros),
    padsEnd: attrInts(a, "pads_end", zeros),
    autoPad: attrStr(a, "auto_pad", "explicit").toLowerCase() || "explicit",
  };
  for (const [k, v] of Object.entries(p)) {
    if (Array.isArray(v) && v.length !== n) fail(ctx, `attribute ${k} has ${v.length} values, expected ${n}`);
  }
  if (!["explicit", "notset", "valid", "same_upper", "same_lower"].includes(p.autoPad)) {
    throw new UnsupportedError(ctx.file, `auto_pad '${p.autoPad}' is not supported`, ctx.node.name);
  }
  if (p.strides.some((s) => s <= 0)) fail(ctx, `strides must be positive, got [${p.strides}]`);
  return p;
}

/**
 * Output size of a sliding window along one axis. `ceil` selects ceil rounding (pooling).
 * With same_upper/same_lower the output is ceil(in / stride) and the pads are implied.
 */
export function windowOut(ctx: InferCtx, inDim: number, k: number, p: WindowParams, ax: number, ceil = false): number {
  const dk = (k - 1) * p.dilations[ax] + 1;
  const s = p.strides[ax];
  let out: number;
  if (p.autoPad === "same_upper" || p.autoPad === "same_lower") out = Math.ceil(inDim / s);
  else {
    const pads = p.autoPad === "valid" ? 0 : p.padsBegin[ax] + p.padsEnd[ax];
    const span = inDim + pads - dk;
    if (span < 0) fail(ctx, `window ${dk} is larger than padded input ${inDim + pads} on spatial axis ${ax}`);
    out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  }
  if (out <= 0) fail(ctx, `output size ${out} on spatial axis ${ax} is not positive`);
  return out;
}

function checkData(ctx: InferCtx, minRank = 3): number[] {
  const x = ctx.shapes[0];
  if (x.length < minRank) fail(ctx, `data must have rank >= ${minRank}, got [${x}]`);
  // Both operands are T_F in the opset: integer data or filters mean a mislabelled tensor.
  const bad = ctx.dtypes.slice(0, 2).find((d) => !isFloat(d));
  if (bad)
    throw new ModelError(
      ctx.file,
      `data and filter must be floating point, got ${ctx.dtypes.slice(0, 2).join(" and ")}`,
      ctx.node.name,
    );
  return x;
}

/** Convolution / GroupConvolution: `groups` = 0 for plain convolution (filter [O, C, k...]). */
function forwardConv(type: string, grouped: boolean): OpDef {
  return {
    type,
    infer(ctx) {
      expectInputs(ctx, 2);
      const x = checkData(ctx);
      const w = ctx.shapes[1];
      const ns = x.length - 2;
      const kRank = ns + (grouped ? 3 : 2);
      if (w.length !== kRank) fail(ctx, `filter shape [${w}] must have rank ${kRank} for data [${x}]`);
      const g = grouped ? w[0] : 1;
      const outC = grouped ? w[0] * w[1] : w[0];
      const inC = grouped ? w[0] * w[2] : w[1];
      if (inC !== x[1]) fail(ctx, `filter [${w}] expects ${inC} input channels, data [${x}] has ${x[1]}`);
      if (grouped && g <= 0) fail(ctx, `group count ${g} is not positive`);
      const p = windowParams(ctx, ns);
      const kernel = w.slice(w.length - ns);
      const spatial = kernel.map((k, i) => windowOut(ctx, x[i + 2], k, p, i));
      return [{ shape: [x[0], outC, ...spatial], dtype: ctx.dtypes[0] }];
    },
  };
}

/** ConvolutionBackpropData / GroupConvolutionBackpropData (filter [C, O, k...] or [G, C/G, O/G, k...]). */
function backpropConv(type: string, grouped: boolean): OpDef {
  return {
    type,
    infer(ctx) {
      expectInputs(ctx, 2, 3);
      const x = checkData(ctx);
      const w = ctx.shapes[1];
      const ns = x.length - 2;
      const kRank = ns + (grouped ? 3 : 2);
      if (w.length !== kRank) fail(ctx, `filter shape [${w}] must have rank ${kRank} for data [${x}]`);
      const inC = grouped ? w[0] * w[1] : w[0];
      const outC = grouped ? w[0] * w[2] : w[1];
      if (inC !== x[1]) fail(ctx, `filter [${w}] expects ${inC} input channels, data [${x}] has ${x[1]}`);
      const p = windowParams(ctx, ns);
      const outPad = attrInts(ctx.node.attrs, "output_padding", new Array<number>(ns).fill(0));
      let spatial: number[];
      if (ctx.node.inputs.length === 3) {
        spatial = constInts(ctx, 2, "output_shape");
        if (spatial.length !== ns) fail(ctx, `output_shape [${spatial}] must have ${ns} values`);
      } else {
        const kernel = w.slice(w.length - ns);
        spatial = kernel.map((k, i) => {
          const s = p.strides[i];
          if (p.autoPad === "same_upper" || p.autoPad === "same_lower") return x[i + 2] * s;
          const pads = p.autoPad === "valid" ? 0 : p.padsBegin[i] + p.padsEnd[i];
          return s * (x[i + 2] - 1) + (k - 1) * p.dilations[i] + 1 - pads + (outPad[i] ?? 0);
        });
      }
      if (spatial.some((d) => d <= 0)) fail(ctx, `output spatial shape [${spatial}] is not positive`);
      return [{ shape: [x[0], outC, ...spatial], dtype: ctx.dtypes[0] }];
    },
  };
}

export const convOps: OpDef[] = [
  forwardConv("Convolution", false),
  forwardConv("GroupConvolution", true),
  backpropConv("ConvolutionBackpropData", false),
  backpropConv("GroupConvolutionBackpropData", true),
];
