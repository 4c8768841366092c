import { ConstTensor, DType } from "../graph/graph";
import { isFloat } from "../graph/ops/util";

/** Shared by the IR and ONNX readers: element sizes, FP16 decompression, raw little-endian bytes → ConstTensor data. */

export const ELEMENT_BYTES: Record<DType, number> = {
  f32: 4,
  f16: 2,
  f64: 8,
  i64: 8,
  i32: 4,
  i16: 2,
  i8: 1,
  u8: 1,
  u16: 2,
  u32: 4,
  u64: 8,
  boolean: 1,
};

/** IEEE 754 binary16 bit pattern → number (exact: every half is representable in binary32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

let halfTable: Float32Array | undefined;

/** Decompresses little-endian FP16 bytes; a 64K-entry table makes large weight blobs cheap. */
export function decodeHalf(bytes: Uint8Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfToFloat(i);
  }
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfTable[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return out;
}

/** Raw little-endian element bytes (length already checked) → the in-memory ConstTensor data. */
export function decodeRaw(dtype: DType, bytes: Uint8Array): Float32Array | Float64Array {
  if (dtype === "f16") return decodeHalf(bytes);
  // Copy so the typed-array views below are aligned whatever the offset inside the file.
  const buf = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case "f32":
      return new Float32Array(buf);
    case "f64":
      return new Float32Array(new Float64Array(buf));
    case "i64":
      return Float64Array.from(new BigInt64Array(buf), Number);
    case "u64":
      return Float64Array.from(new BigUint64Array(buf), Number);
    case "i32":
      return Float64Array.from(new Int32Array(buf));
    case "u32":
      return Float64Array.from(new Uint32Array(buf));
    case "i16":
      return Float64Array.from(new Int16Array(buf));
    case "u16":
      return Float64Array.from(new Uint16Array(buf));
    case "i8":
      return Float64Array.from(new Int8Array(buf));
    case "u8":
      return Float64Array.from(new Uint8Array(buf));
    case "boolean":
      return Float64Array.from(new Uint8Array(buf), (v) => (v ? 1 : 0));
  }
}

export function makeConst(dtype: DType, shape: number[], values: ArrayLike<number>): ConstTensor {
  return { dtype, shape, data: isFloat(dtype) ? Float32Array.from(values) : Float64Array.from(values) };
}
