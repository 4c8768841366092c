/** The ONNX reader: one file per concern (see each file's header); this is its public face. */
export { readONNX, MIN_OPSET, MAX_OPSET } from "./graph";
export { SUPPORTED_ONNX_OPS } from "./convert";
export { tensorFromProto } from "./tensor_proto";
