/** The ONNX writer: one file per concern (see each file's header); this is its public face. */
export { graphToONNX, ONNX_OPSET, OnnxWriter } from "./writer";
