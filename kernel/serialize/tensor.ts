/** Constant data → little-endian bytes, the inverse of readers/tensor.ts's decodeRaw. */
import { DType } from "../graph/graph";

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** INT64_MAX-style sentinels are held as doubles just past the range; saturate instead of wrapping. */
function bigint(v: number, lo: bigint, hi: bigint): bigint {
  if (!Number.isFinite(v)) return v > 0 ? hi : lo;
  const b = BigInt(Math.trunc(v));
  return b > hi ? hi : b < lo ? lo : b;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → IEEE 754 binary16 bit pattern, rounding to nearest even (exact for values read from FP16). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the mantissa with its implicit bit into place, rounding to nearest even.
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** The bytes of `values` stored as `dtype` (little-endian, as in IR .bin files and ONNX raw_data). */
export function encodeValues(dtype: DType, values: ArrayLike<number>): Uint8Array {
  let out: ArrayBufferView;
  switch (dtype) {
    case "f32":
      out = Float32Array.from(values);
      break;
    case "f16":
      out = Uint16Array.from(values, floatToHalf);
      break;
    case "f64":
      out = Float64Array.from(values);
      break;
    case "i64":
      out = BigInt64Array.from(Array.from(values, (v) => bigint(v, INT64_MIN, INT64_MAX)));
      break;
    case "u64":
      out = BigUint64Array.from(Array.from(values, (v) => bigint(v, 0n, UINT64_MAX)));
      break;
    case "i32":
      out = Int32Array.from(values);
      break;
    case "u32":
      out = Uint32Array.from(values);
      break;
    case "i16":
      out = Int16Array.from(values);
      break;
    case "u16":
      out = Uint16Array.from(values);
      break;
    case "i8":
      out = Int8Array.from(values);
      break;
    case "u8":
      out = Uint8Array.from(values);
      break;
    case "boolean":
      out = Uint8Array.from(values, (v) => (v ? 1 : 0));
      break;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
