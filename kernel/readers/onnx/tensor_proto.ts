import { ModelError, UnsupportedError } from "../../errors";
import { ConstTensor } from "../../graph/graph";
import { numel } from "../../graph/ops/util";
import { ELEMENT_BYTES, decodeHalf, decodeRaw, makeConst } from "../tensor";
import { DTYPE_OF_ONNX } from "./op_table";
import { ONNX_DTYPE, OnnxTensor, toNum } from "./proto";

/** Decodes one TensorProto into a ConstTensor (raw_data or the typed repeated fields). */
export function tensorFromProto(t: OnnxTensor, file: string, layer: string): ConstTensor {
  if (t.data_location === 1) throw new UnsupportedError(file, "ONNX external data is not supported", layer || t.name);
  const dtype = DTYPE_OF_ONNX[t.data_type];
  if (!dtype)
    throw new UnsupportedError(file, `tensor '${t.name}' has unsupported ONNX data type ${t.data_type}`, layer || t.name);
  const shape = t.dims.map(toNum);
  const n = numel(shape);
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    const expected = n * ELEMENT_BYTES[dtype];
    if (raw.length !== expected) {
      throw new ModelError(
        file,
        `tensor '${t.name}' has ${raw.length} bytes of raw_data, shape [${shape.join(", ")}] of ${dtype} needs ${expected}`,
        layer || t.name,
      );
    }
    return { dtype, shape, data: decodeRaw(dtype, raw) };
  }
  let values: ArrayLike<number>;
  switch (t.data_type) {
    case ONNX_DTYPE.FLOAT:
      values = t.float_data;
      break;
    case ONNX_DTYPE.DOUBLE:
      values = t.double_data;
      break;
    case ONNX_DTYPE.INT64:
      values = t.int64_data.map(toNum);
      break;
    case ONNX_DTYPE.UINT32:
    case ONNX_DTYPE.UINT64:
      values = t.uint64_data.map(toNum);
      break;
    case ONNX_DTYPE.FLOAT16: {
      // FP16 values travel as their bit patterns in int32_data.
      const bytes = new Uint8Array(t.int32_data.length * 2);
      t.int32_data.forEach((b, i) => {
        bytes[2 * i] = b & 0xff;
        bytes[2 * i + 1] = (b >> 8) & 0xff;
      });
      values = decodeHalf(bytes);
      break;
    }
    default:
      values = t.int32_data;
  }
  if (values.length !== n) {
    throw new ModelError(
      file,
      `tensor '${t.name}' has ${values.length} values, shape [${shape.join(", ")}] needs ${n}`,
      layer || t.name,
    );
  }
  return makeConst(dtype, shape, dtype === "boolean" ? Array.from(values, (v) => (v ? 1 : 0)) : values);
}
