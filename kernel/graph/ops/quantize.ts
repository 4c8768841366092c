/**
 * FakeQuantize-1: elementwise linear quantization of floats into `levels` float values, with
 * input and output limits that broadcast (numpy) to the data. Weights quantized by a FakeQuantize
 * fold to constants here, so only activations reach the plugins.
 */
import { ModelError, ShapeError, UnsupportedError } from "../../errors";
import { ConstTensor } from "../graph";
import { attrNum, attrStr } from "../attrs";
import type { InferCtx, OpDef } from "./types";
import { broadcastIndex, expectInputs, fail, makeTensor, numel, sameShape } from "./util";

/** Rounds half to even, as std::nearbyint does in OpenVINO's reference FakeQuantize and ONNX QuantizeLinear. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** OpenVINO's FakeQuantize formula for one element (limits already broadcast to it). */
function fakeQuantizeValue(x: number, il: number, ih: number, ol: number, oh: number, levels: number): number {
  if (x <= Math.min(il, ih)) return ol;
  if (x > Math.max(il, ih)) return oh;
  return (roundHalfEven(((x - il) / (ih - il)) * (levels - 1)) / (levels - 1)) * (oh - ol) + ol;
}

const LIMITS = ["input_low", "input_high", "output_low", "output_high"];

/** `levels` as an integer >= 2; anything else is a bad model (the op would divide by zero or mean nothing). */
export function fakeQuantizeLevels(attrs: Record<string, string>, file: string, layer: string): number {
  const levels = attrNum(attrs, "levels");
  if (!Number.isInteger(levels) || levels < 2) {
    throw new ModelError(file, `FakeQuantize levels must be an integer >= 2, got ${attrs.levels}`, layer);
  }
  return levels;
}

/** True when `limit` broadcasts (numpy, right-aligned) to `data` without changing data's shape. */
function broadcastsTo(limit: number[], data: number[]): boolean {
  if (limit.length > data.length)
    return (
      limit.slice(0, limit.length - data.length).every((d) => d === 1) &&
      broadcastsTo(limit.slice(limit.length - data.length), data)
    );
  return limit.every((d, i) => d === 1 || d === data[data.length - limit.length + i]);
}

function checkLimits(ctx: InferCtx): void {
  const data = ctx.shapes[0];
  const mode = attrStr(ctx.node.attrs, "auto_broadcast", "numpy").toLowerCase();
  for (let i = 1; i <= 4; i++) {
    const s = ctx.shapes[i];
    const fits = mode === "none" ? sameShape(s, data) : mode === "numpy" ? broadcastsTo(s, data) : false;
    if (mode !== "none" && mode !== "numpy") {
      throw new UnsupportedError(ctx.file, `FakeQuantize auto_broadcast '${mode}' is not numpy or none`, ctx.node.name);
    }
    if (!fits) {
      // A shape error, not BAD_MODEL: analysis probes other batches, where a limit with a fixed
      // batch axis stops broadcasting, and records that as an unsupported layer.
      throw new ShapeError(
        ctx.file,
        ctx.node.name,
        `FakeQuantize ${LIMITS[i - 1]} of shape [${s}] does not broadcast to the data shape [${data}] (auto_broadcast ${mode})`,
      );
    }
  }
  const il = ctx.consts[1];
  const ih = ctx.consts[2];
  if (!il || !ih) return;
  const shape = data.length ? data : [1];
  const mi = broadcastIndex(il.shape, shape);
  const mh = broadcastIndex(ih.shape, shape);
  for (let k = 0; k < numel(shape); k++) {
    if (il.data[mi[k]] > ih.data[mh[k]]) {
      throw new ModelError(
        ctx.file,
        `FakeQuantize input_low ${il.data[mi[k]]} is above input_high ${ih.data[mh[k]]} (element ${k} of the data)`,
        ctx.node.name,
      );
    }
  }
}

const fakeQuantize: OpDef = {
  type: "FakeQuantize",
  infer(ctx) {
    expectInputs(ctx, 5);
    fakeQuantizeLevels(ctx.node.attrs, ctx.file, ctx.node.name);
    if (ctx.dtypes[0] !== "f32" && ctx.dtypes[0] !== "f16" && ctx.dtypes[0] !== "f64") {
      fail(ctx, `FakeQuantize data must be a float tensor, got ${ctx.dtypes[0]}`);
    }
    checkLimits(ctx);
    return [{ shape: [...ctx.shapes[0]], dtype: ctx.dtypes[0] }];
  },
  fold(ctx): ConstTensor[] {
    const [o] = fakeQuantize.infer(ctx);
    const levels = fakeQuantizeLevels(ctx.node.attrs, ctx.file, ctx.node.name);
    const ins = ctx.consts as ConstTensor[];
    const maps = ins.map((t) => broadcastIndex(t.shape, o.shape));
    const out = new Float64Array(numel(o.shape));
    const f32 = Math.fround;
    const [x, il, ih, ol, oh] = ins.map((t) => t.data);
    const [mx, mil, mih, mol, moh] = maps;
    // No allocation per element: weights of a whole network fold here on every prepare.
    for (let k = 0; k < out.length; k++) {
      out[k] = fakeQuantizeValue(f32(x[mx[k]]), f32(il[mil[k]]), f32(ih[mih[k]]), f32(ol[mol[k]]), f32(oh[moh[k]]), levels);
    }
    return [makeTensor(o.dtype, o.shape, out)];
  },
};

export const quantizeOps: OpDef[] = [fakeQuantize];
