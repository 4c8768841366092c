/**
 * QuantizeLinear / DequantizeLinear (opsets 10–21, per tensor or per axis, uint8/int8 zero
 * points). dynbatch computes in FP32, so:
 * - a QuantizeLinear whose every consumer is a DequantizeLinear with the same scale, zero point
 *   and axis (the QDQ pattern onnxruntime's quantizer writes) becomes, with each of them, one
 *   FakeQuantize of 256 levels with limits (qmin − zp)·s and (qmax − zp)·s on both sides;
 * - a DequantizeLinear of a constant (quantized weights, int32 biases) folds to FP32 constants;
 * - any other QuantizeLinear is a FakeQuantize onto the integers qmin..qmax (as floats), and any
 *   other DequantizeLinear is (x − zp)·s.
 */
import { ModelError } from "../../errors";
import { ConstTensor, PortRef } from "../../graph/graph";
import { numel } from "../../graph/ops/util";
import { Converter, NUMPY, ReadCtx } from "./context";
import { OnnxNode } from "./proto";
import { ONNX_DTYPE } from "./proto";

/** The integer range of each zero-point type QDQ models use (int32 only for dequantized biases). */
const RANGE: Record<string, [number, number]> = { u8: [0, 255], i8: [-128, 127], i32: [-(2 ** 31), 2 ** 31 - 1] };

interface QParams {
  scale: number[];
  zero: number[];
  /** The quantized axis of the data, or -1 per tensor. */
  axis: number;
  /** Shape the per-axis values take to broadcast along `axis` of the data ([] per tensor). */
  shape: number[];
  qmin: number;
  qmax: number;
}

function constOf(c: ReadCtx, i: number, what: string): ConstTensor {
  const t = c.peek(i);
  if (!t) throw c.unsupported(`${what} (input ${i}) must be a constant`);
  return t;
}

/** Scale, zero point and axis of a Q or DQ node, checked: positive finite scales, zero points in their type's range. */
function params(c: ReadCtx, allowI32: boolean, rank: () => number = () => dataRank(c)): QParams {
  const op = c.onnx.op_type;
  if (c.int("block_size", 0) !== 0) throw c.unsupported("blocked quantization (block_size) is not supported");
  const s = constOf(c, 1, "scale");
  const zt = c.peek(2);
  if (c.onnx.input[2] && !zt) throw c.unsupported("the zero point (input 2) must be a constant");
  const outType = c.int("output_dtype", 0);
  const dtype = zt ? zt.dtype : outType === ONNX_DTYPE.INT8 ? "i8" : outType === 0 || outType === ONNX_DTYPE.UINT8 ? "u8" : "";
  const range = RANGE[dtype];
  if (!range || (dtype === "i32" && !allowI32)) {
    throw c.unsupported(`zero-point type ${dtype || `ONNX ${outType}`} is not supported (uint8 and int8 are)`);
  }
  const scale = Array.from(s.data);
  const zero = zt ? Array.from(zt.data) : new Array<number>(scale.length).fill(0);
  if (zero.length !== scale.length) {
    throw new ModelError(c.file, `${op} has ${scale.length} scales but ${zero.length} zero points`, c.name);
  }
  scale.forEach((v, k) => {
    if (!(v > 0) || !Number.isFinite(v))
      throw new ModelError(c.file, `${op} scale ${v} (element ${k}) must be positive and finite`, c.name);
  });
  zero.forEach((z, k) => {
    if (!Number.isInteger(z) || z < range[0] || z > range[1]) {
      throw new ModelError(
        c.file,
        `${op} zero point ${z} (element ${k}) is out of the ${dtype} range ${range[0]}..${range[1]}`,
        c.name,
      );
    }
  });
  const perAxis = s.shape.length > 0 && numel(s.shape) > 1;
  if (s.shape.length > 1) throw new ModelError(c.file, `${op} scale must be a scalar or 1-D, got shape [${s.shape}]`, c.name);
  let axis = -1;
  let shape: number[] = [];
  if (perAxis) {
    const r = rank();
    const a = c.int("axis", 1);
    axis = a < 0 ? a + r : a;
    if (axis < 0 || axis >= r) throw new ModelError(c.file, `${op} axis ${a} is out of range for rank ${r}`, c.name);
    shape = [scale.length, ...new Array<number>(r - axis - 1).fill(1)];
  }
  return { scale, zero, axis, shape, qmin: range[0], qmax: range[1] };
}

/** The data's rank; a constant's from its value, so folding it leaves no Const node behind. */
function dataRank(c: ReadCtx): number {
  return c.peek(0)?.shape.length ?? c.requireRank(0, "a per-axis scale");
}

function same(a: QParams, b: QParams): boolean {
  const eq = (x: number[], y: number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.axis === b.axis && a.qmin === b.qmin && eq(a.scale, b.scale) && eq(a.zero, b.zero);
}

/** The QuantizeLinear producing this DequantizeLinear's input with the same parameters, if any. */
function pairedQuantize(c: ReadCtx): { q: ReadCtx; p: QParams } | undefined {
  const producer: OnnxNode | undefined = c.b.producers.get(c.onnx.input[0]);
  if (!producer || producer.op_type !== "QuantizeLinear") return undefined;
  const q = new ReadCtx(c.b, producer, c.opset);
  const p = params(q, false);
  // The data of the pair is the QuantizeLinear's input (this node's input may not be bound yet).
  return same(
    p,
    params(c, true, () => dataRank(q)),
  )
    ? { q, p }
    : undefined;
}

/** FakeQuantize of `x` onto the grid of `p`; `toFloat` maps back to real values (the QDQ pair), otherwise onto qmin..qmax. */
function fakeQuantize(c: ReadCtx, x: PortRef, p: QParams, toFloat: boolean): PortRef {
  const low = p.scale.map((s, k) => (p.qmin - p.zero[k]) * s);
  const high = p.scale.map((s, k) => (p.qmax - p.zero[k]) * s);
  const n = p.scale.length;
  const lim = (suffix: string, v: number[]) => c.f32(suffix, v, p.shape);
  const outLow = toFloat ? low : new Array<number>(n).fill(p.qmin);
  const outHigh = toFloat ? high : new Array<number>(n).fill(p.qmax);
  return c.op(
    "FakeQuantize",
    [x, lim("input_low", low), lim("input_high", high), lim("output_low", outLow), lim("output_high", outHigh)],
    { levels: String(p.qmax - p.qmin + 1), ...NUMPY },
  );
}

export const quantizeLinear: Converter = (c) => {
  const p = params(c, false);
  const consumers = c.b.consumers.get(c.onnx.output[0]) ?? [];
  const paired = (n: OnnxNode | "output") =>
    n !== "output" && n.op_type === "DequantizeLinear" && pairedQuantize(new ReadCtx(c.b, n, c.opset));
  // Every consumer becomes a FakeQuantize of this node's input: this node itself adds nothing.
  if (consumers.length > 0 && consumers.every(paired)) return [c.input(0, "x")];
  return [fakeQuantize(c, c.input(0, "x"), p, false)];
};

export const dequantizeLinear: Converter = (c) => {
  const pair = pairedQuantize(c);
  if (pair) return [fakeQuantize(c, pair.q.input(0, "x"), pair.p, true)];
  const p = params(c, true);
  const x = c.peek(0);
  if (x) {
    const inner = p.axis < 0 ? 1 : numel(x.shape.slice(p.axis + 1));
    const count = p.scale.length;
    const data = Array.from(x.data, (v, i) => {
      const k = Math.floor(i / inner) % count;
      return (v - p.zero[k]) * p.scale[k];
    });
    return [c.f32("dequantized", data, x.shape)];
  }
  const xf = c.op("Convert", [c.input(0, "x")], { destination_type: "f32" }, "float", "f32");
  const centered = c.op("Subtract", [xf, c.f32("zero_point", p.zero, p.shape)], NUMPY, "centered");
  return [c.op("Multiply", [centered, c.f32("scale", p.scale, p.shape)], NUMPY)];
};
