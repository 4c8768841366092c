import * as path from "path";
import { UnsupportedError } from "../errors";
import { Graph } from "../graph/graph";
import { readIR } from "./ir";
import { readONNX } from "./onnx";
import { FreezeValues, freezeParameters } from "./freeze";

export { readIR } from "./ir";
export { readONNX } from "./onnx";
export { halfToFloat } from "./tensor";
export type { FreezeValues } from "./freeze";

/**
 * Reads a model by extension: ".xml" (IR, weights in `binPath` or the .bin beside it) or ".onnx".
 * Inputs named in `freeze` become constants of the given values.
 */
export function readModel(file: string, binPath?: string, freeze?: FreezeValues): Graph {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".xml") {
    const g = readIR(file, binPath);
    return freeze ? freezeParameters(g, freeze) : g;
  }
  // ONNX freezes while reading: an If decided by a frozen input is folded there.
  if (ext === ".onnx") return readONNX(file, freeze);
  throw new UnsupportedError(file, `unsupported model format '${ext || "(no extension)"}' (.xml and .onnx are)`);
}
