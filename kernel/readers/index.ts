import * as path from "path";
import { UnsupportedError } from "../errors";
import { Graph } from "../graph/graph";
import { readIR } from "./ir";
import { readONNX } from "./onnx";

export { readIR } from "./ir";
export { readONNX } from "./onnx";
export { halfToFloat } from "./tensor";

/** Reads a model by extension: ".xml" (IR, weights in `binPath` or the .bin beside it) or ".onnx". */
export function readModel(file: string, binPath?: string): Graph {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".xml") return readIR(file, binPath);
  if (ext === ".onnx") return readONNX(file);
  throw new UnsupportedError(file, `unsupported model format '${ext || "(no extension)"}' (.xml and .onnx are)`);
}
