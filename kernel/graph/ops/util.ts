import { ConstTensor, DType } from "../graph";
import { ShapeError, UnsupportedError } from "../../errors";
import { attrStr } from "../attrs";
import type { InferCtx } from "./types";

const FLOAT_TYPES = new Set<DType>(["f32", "f16", "f64"]);
const ALL_TYPES = new Set<DType>(["f32", "f16", "f64", "i64", "i32", "i16", "i8", "u8", "u16", "u32", "u64", "boolean"]);

export function isFloat(d: DType): boolean {
  return FLOAT_TYPES.has(d);
}

/** Parses an IR element type name ("f32", "i64", "boolean"); throws for types the graph cannot hold. */
export function parseDType(ctx: InferCtx, s: string): DType {
  const t = s.trim().toLowerCase();
  if (ALL_TYPES.has(t as DType)) return t as DType;
  if (t === "bool") return "boolean";
  throw new UnsupportedError(ctx.file, `element type '${s}' is not supported`, ctx.node.name);
}

/** Rounds/saturates a number the way storing it in `dtype` does (integers truncate toward zero). */
export function castValue(v: number, dtype: DType): number {
  if (isFloat(dtype)) return v;
  if (dtype === "boolean") return v !== 0 ? 1 : 0;
  if (!Number.isFinite(v)) return v;
  return Math.trunc(v);
}

export function numel(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function makeTensor(dtype: DType, shape: number[], values: ArrayLike<number>): ConstTensor {
  const n = numel(shape);
  const data = isFloat(dtype) ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = castValue(values[i], dtype);
  return { dtype, shape: [...shape], data };
}

export function fail(ctx: InferCtx, reason: string): never {
  throw new ShapeError(ctx.file, ctx.node.name, reason);
}

export function expectInputs(ctx: InferCtx, min: number, max = min): void {
  const n = ctx.node.inputs.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : `${min}..${max}`;
    fail(ctx, `${ctx.node.type} expects ${want} inputs, got ${n}`);
  }
}

export function constInput(ctx: InferCtx, i: number, what: string): ConstTensor {
  const c = ctx.consts[i];
  if (!c) fail(ctx, `${what} (input ${i}) must be a constant; dynamic shapes are not supported`);
  return c;
}

export function constInts(ctx: InferCtx, i: number, what: string): number[] {
  return Array.from(constInput(ctx, i, what).data);
}

export function normAxis(ctx: InferCtx, axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(ctx, `${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

export function rowMajorStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy broadcast of two shapes (right-aligned; a dim of 1 stretches). */
export function broadcastShapes(ctx: InferCtx, a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a.length - r + i >= 0 ? a[a.length - r + i] : 1;
    const db = b.length - r + i >= 0 ? b[b.length - r + i] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(ctx, `shapes [${a}] and [${b}] cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Shape of the elementwise result under the node's auto_broadcast ("numpy" default, "none" = equal shapes). */
export function eltwiseShape(ctx: InferCtx, shapes: number[][]): number[] {
  const mode = attrStr(ctx.node.attrs, "auto_broadcast", "numpy").toLowerCase();
  if (mode === "none") {
    for (const s of shapes.slice(1)) {
      if (!sameShape(s, shapes[0])) fail(ctx, `shapes [${shapes[0]}] and [${s}] differ and auto_broadcast is none`);
    }
    return [...shapes[0]];
  }
  if (mode !== "numpy" && mode !== "pdpd") {
    throw new UnsupportedError(ctx.file, `auto_broadcast '${mode}' is not supported`, ctx.node.name);
  }
  return shapes.reduce((acc, s) => broadcastShapes(ctx, acc, s));
}

/** For each flat index of `outShape`, the flat index into a tensor of `inShape` broadcast to it. */
export function broadcastIndex(inShape: number[], outShape: number[]): Int32Array | Float64Array {
  const n = numel(outShape);
  const idx = n < 2 ** 31 ? new Int32Array(n) : new Float64Array(n);
  const r = outShape.length;
  const padded = new Array<number>(r).fill(1);
  for (let i = 0; i < inShape.length; i++) padded[r - inShape.length + i] = inShape[i];
  const inStrides = rowMajorStrides(padded).map((s, i) => (padded[i] === 1 ? 0 : s));
  const coord = new Array<number>(r).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = off;
    for (let ax = r - 1; ax >= 0; ax--) {
      coord[ax]++;
      off += inStrides[ax];
      if (coord[ax] < outShape[ax]) break;
      off -= inStrides[ax] * coord[ax];
      coord[ax] = 0;
    }
  }
  return idx;
}

/** Copies the sub-tensor selected per axis by (begin, step, count) into a new tensor of shape `outShape`. */
export function stridedGather(t: ConstTensor, begin: number[], step: number[], count: number[], outShape: number[]): ConstTensor {
  const strides = rowMajorStrides(t.shape);
  const n = numel(count);
  const out = new Array<number>(n);
  const r = count.length;
  const coord = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let ax = 0; ax < r; ax++) off += (begin[ax] + coord[ax] * step[ax]) * strides[ax];
    out[k] = t.data[off];
    for (let ax = r - 1; ax >= 0; ax--) {
      if (++coord[ax] < count[ax]) break;
      coord[ax] = 0;
    }
  }
  return makeTensor(t.dtype, outShape, out);
}
