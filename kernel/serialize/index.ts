/**
 * Writes a network back to a file: ONNX (for onnxruntime and other tools) or OpenVINO IR v11.
 * Sits below the runtime: it takes anything that can prepare its graph at a batch.
 */
import * as fs from "fs";
import * as path from "path";
import { DynbatchError, ModelError, UnsupportedError } from "../errors";
import { Graph } from "../graph/graph";
import { graphToONNX } from "./onnx";
import { graphToIR } from "./ir";

export { graphToONNX, ONNX_OPSET } from "./onnx";
export { graphToIR } from "./ir";
export { floatToHalf } from "./tensor";

/** What the writers need from a network (CNNNetwork has it). */
export interface SerializableNetwork {
  readonly batchSize: number;
  /** The graph with shapes inferred and constants folded, at the current batch or at `batch`. */
  prepared(batch?: number): Graph;
}

/**
 * The network as ONNX bytes, with a symbolic batch "N" when the network runs at another batch
 * too (a model whose shapes pin the batch is written with its fixed batch).
 */
export function networkToONNX(net: SerializableNetwork): Uint8Array {
  const g = net.prepared();
  let alt: Graph | undefined;
  try {
    alt = net.prepared(net.batchSize + 1);
  } catch (e) {
    if (!(e instanceof DynbatchError)) throw e;
  }
  return graphToONNX(g, alt);
}

/** Writes `net` as ONNX (path ends in .onnx) or as IR v11 (.xml, with the .bin beside it). */
export function serializeNetwork(net: SerializableNetwork, file: string): void {
  const ext = path.extname(file).toLowerCase();
  if (ext !== ".onnx" && ext !== ".xml") {
    throw new UnsupportedError(file, `cannot write '${ext || "(no extension)"}': use .onnx or .xml (IR v11)`);
  }
  const write = (f: string, data: string | Uint8Array) => {
    try {
      fs.writeFileSync(f, data);
    } catch (e) {
      throw new ModelError(f, `cannot write the file: ${(e as Error).message}`);
    }
  };
  if (ext === ".onnx") {
    write(file, networkToONNX(net));
    return;
  }
  const { xml, bin } = graphToIR(net.prepared());
  write(file, xml);
  write(file.replace(/\.xml$/i, ".bin"), bin);
}
