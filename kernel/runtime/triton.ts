/**
 * exportTriton: a Triton Inference Server model repository entry for a network whose batch is
 * proven independent: `<dir>/<name>/config.pbtxt` (max_batch_size, inputs and outputs without the
 * batch dim, dynamic_batching) and `<dir>/<name>/1/model.onnx` (onnxruntime backend) or
 * `model.xml` + `model.bin` (openvino backend). Everything is computed before anything is written,
 * so a refused export leaves the disk as it was.
 */
import * as fs from "fs";
import * as path from "path";
import { InputError, ModelError, TritonExportError } from "../errors";
import { Graph, nodeMap } from "../graph/graph";
import { graphInputs, graphOutputs } from "../graph/io";
import { DType } from "../graph/graph";
import { graphToIR, networkToONNX, SerializableNetwork } from "../serialize";
import { ModelProtoType, OnnxModel, OnnxValueInfo, toNum } from "../readers/onnx/proto";
import { LatencyReport, TopologyReport } from "../schema";
import { BatchingGoal, recommendBatching } from "./recommend";

export type TritonBackend = "onnxruntime" | "openvino";

export interface TritonOptions {
  /** The model's directory name in the repository (and config `name`): no path separators. */
  name: string;
  /** Triton's max_batch_size: the largest batch its dynamic batcher forms (chosen from `latency` when `recommend` is set). */
  maxBatch?: number;
  backend?: TritonBackend;
  /** How long the dynamic batcher may hold a request to fill a batch, in µs (default 100, or chosen from `latency`). */
  delayUs?: number;
  /** Choose maxBatch and delayUs (where not given) from `latency`'s measured curve; config.pbtxt records the measurement. */
  recommend?: BatchingGoal;
  /** The sweep of this network from benchmark(), for `recommend`. */
  latency?: LatencyReport;
  /** Replace `<dir>/<name>` when it exists and is not empty (refused otherwise). */
  overwrite?: boolean;
  /** Triton advises against preferred sizes except for TensorRT profiles: written only when given. */
  preferredBatchSizes?: number[];
}

/** One input or output as config.pbtxt lists it. */
export interface TritonTensor {
  name: string;
  dataType: string;
  /** Dims without the batch axis. */
  dims: number[];
}

export interface TritonExport {
  /** `<dir>/<name>`. */
  modelDir: string;
  /** Every file written, config.pbtxt first. */
  files: string[];
  config: string;
}

/** What exportTriton needs of a network (CNNNetwork has it). */
export interface ExportableNetwork extends SerializableNetwork {
  readonly name: string;
  analyze(): TopologyReport;
}

const ONNX_TRITON: Record<number, string> = {
  1: "TYPE_FP32",
  2: "TYPE_UINT8",
  3: "TYPE_INT8",
  4: "TYPE_UINT16",
  5: "TYPE_INT16",
  6: "TYPE_INT32",
  7: "TYPE_INT64",
  9: "TYPE_BOOL",
  10: "TYPE_FP16",
  11: "TYPE_FP64",
  12: "TYPE_UINT32",
  13: "TYPE_UINT64",
};

const DTYPE_TRITON: Record<DType, string> = {
  f32: "TYPE_FP32",
  f16: "TYPE_FP16",
  f64: "TYPE_FP64",
  i64: "TYPE_INT64",
  i32: "TYPE_INT32",
  i16: "TYPE_INT16",
  i8: "TYPE_INT8",
  u8: "TYPE_UINT8",
  u16: "TYPE_UINT16",
  u32: "TYPE_UINT32",
  u64: "TYPE_UINT64",
  boolean: "TYPE_BOOL",
};

/** The inputs and outputs of the ONNX file itself (its names, types, and dims after the symbolic batch). */
function onnxTensors(bytes: Uint8Array, file: string): { inputs: TritonTensor[]; outputs: TritonTensor[] } {
  const graph = (ModelProtoType.decode(bytes) as unknown as OnnxModel).graph;
  if (!graph) throw new ModelError(file, "the ONNX export has no graph");
  const inits = new Set(graph.initializer.map((t) => t.name));
  const tensor = (v: OnnxValueInfo): TritonTensor => {
    const t = v.type?.tensor_type;
    const dims = t?.shape?.dim ?? [];
    // The writer names the batch "N" only when the network runs at other batches too.
    if (!dims.length || dims[0].dim_param !== "N")
      throw new ModelError(file, `'${v.name}' has no symbolic batch axis in the export, so Triton cannot batch it`, v.name);
    const rest = dims.slice(1).map((d) => (d.dim_param ? -1 : toNum(d.dim_value)));
    return { name: v.name, dataType: ONNX_TRITON[t?.elem_type ?? 0] ?? "TYPE_FP32", dims: rest };
  };
  return {
    inputs: graph.input.filter((v) => !inits.has(v.name)).map(tensor),
    outputs: graph.output.map(tensor),
  };
}

/** The IR's inputs and outputs as OpenVINO names them: the first tensor name, else the layer name. */
function irTensors(g: Graph): { inputs: TritonTensor[]; outputs: TritonTensor[] } {
  const byId = nodeMap(g);
  const tensor = (ref: { node: number; port: number }, fallback: string): TritonTensor => {
    const o = byId.get(ref.node)!.outputs[ref.port];
    return { name: o.names[0] ?? fallback, dataType: DTYPE_TRITON[o.dtype], dims: o.shape.slice(1) };
  };
  return {
    inputs: graphInputs(g).map((io) => tensor(io.ref, byId.get(io.ref.node)!.name)),
    outputs: graphOutputs(g).map((io) => tensor(io.ref, io.name)),
  };
}

const quote = (s: string) => JSON.stringify(s);

function tensorBlock(kind: "input" | "output", list: TritonTensor[]): string {
  const items = list.map(
    (t) => `  {\n    name: ${quote(t.name)}\n    data_type: ${t.dataType}\n    dims: [ ${t.dims.join(", ")} ]\n  }`,
  );
  return `${kind} [\n${items.join(",\n")}\n]`;
}

/** config.pbtxt in protobuf text format; `comment` lines come first, as # comments. */
export function tritonConfig(
  o: { name: string; backend: TritonBackend; maxBatch: number; delayUs: number; preferredBatchSizes?: number[] },
  io: { inputs: TritonTensor[]; outputs: TritonTensor[] },
  comment: string[] = [],
): string {
  const batching = [
    ...(o.preferredBatchSizes?.length ? [`  preferred_batch_size: [ ${o.preferredBatchSizes.join(", ")} ]`] : []),
    `  max_queue_delay_microseconds: ${o.delayUs}`,
  ];
  const lines = [
    // A comment line ends at a line break: one inside a model name must not start a config line.
    ...comment.map((c) => `# ${c.replace(/[\r\n]+/g, " ")}`),
    `name: ${quote(o.name)}`,
    `backend: ${quote(o.backend)}`,
    `max_batch_size: ${o.maxBatch}`,
    tensorBlock("input", io.inputs),
    tensorBlock("output", io.outputs),
    `dynamic_batching {\n${batching.join("\n")}\n}`,
  ];
  // The OpenVINO backend reshapes the IR to the batch each request brings only when asked to.
  if (o.backend === "openvino") lines.push(`parameters: {\n  key: "RESHAPE_IO_LAYERS"\n  value: { string_value: "yes" }\n}`);
  return lines.join("\n") + "\n";
}

type Checked = { name: string; maxBatch: number; backend: TritonBackend; delayUs: number; overwrite: boolean };

function checkOptions(o: TritonOptions, limit: number): Checked {
  if (typeof o.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(o.name) || o.name === "." || o.name === "..")
    throw new InputError(
      `exportTriton: name '${String(o.name)}' must be a plain directory name (letters, digits, _ . -; no path separators)`,
    );
  if (o.maxBatch === undefined || !Number.isInteger(o.maxBatch) || o.maxBatch < 1 || o.maxBatch > limit)
    throw new InputError(`exportTriton: maxBatch must be an integer in [1;${limit}] for this network, got ${o.maxBatch}`);
  const backend = o.backend ?? "onnxruntime";
  if (backend !== "onnxruntime" && backend !== "openvino")
    throw new InputError(`exportTriton: backend must be "onnxruntime" or "openvino", got '${String(backend)}'`);
  const delayUs = o.delayUs ?? 100;
  if (!Number.isInteger(delayUs) || delayUs < 0)
    throw new InputError(`exportTriton: delayUs must be a non-negative integer (µs), got ${delayUs}`);
  const pref = o.preferredBatchSizes ?? [];
  if (pref.some((b) => !Number.isInteger(b) || b < 1 || b > o.maxBatch!))
    throw new InputError(`exportTriton: preferredBatchSizes must be integers in [1;${o.maxBatch}], got [${pref}]`);
  return { name: o.name, maxBatch: o.maxBatch, backend, delayUs, overwrite: o.overwrite ?? false };
}

/** Options with maxBatch and delayUs filled from the recommendation (what the user gave wins), and its basis. */
function withRecommendation(options: TritonOptions): { options: TritonOptions; comment: string[] } {
  if (options.recommend === undefined) return { options, comment: [] };
  if (!options.latency)
    throw new InputError(`exportTriton: recommend: "${options.recommend}" needs latency: a LatencyReport from benchmark()`);
  const r = recommendBatching(options.latency, options.recommend);
  const given = [options.maxBatch !== undefined ? "maxBatch" : "", options.delayUs !== undefined ? "delayUs" : ""].filter(
    Boolean,
  );
  return {
    options: { ...options, maxBatch: options.maxBatch ?? r.maxBatch, delayUs: options.delayUs ?? r.delayUs },
    comment: [...r.basis, ...(given.length ? [`(${given.join(" and ")} given by the caller, not the recommendation)`] : [])],
  };
}

/**
 * Writes the repository entry for `net` under `dir` (created if needed). `limit` is the largest
 * batch the network may run at on this machine.
 */
export function exportTriton(net: ExportableNetwork, dir: string, given: TritonOptions, limit: number): TritonExport {
  if (typeof dir !== "string" || dir.length === 0) throw new InputError(`exportTriton: dir must be a directory path`);
  const { options, comment } = withRecommendation(given);
  const o = checkOptions(options, limit);
  const prepared = net.prepared();
  for (const io of graphInputs(prepared)) {
    const shape = prepared.nodes.find((n) => n.id === io.ref.node)!.outputs[0].shape;
    if (shape.length === 0)
      throw new ModelError(
        prepared.file,
        `input '${io.name}' is a scalar: there is no batch axis for Triton to stack requests on`,
        io.name,
      );
  }
  const report = net.analyze();
  if (!report.supported)
    throw new TritonExportError(
      report.model,
      report.mode,
      report.layers
        .filter((l) => l.verdict === "unsupported")
        .map((l) => ({ name: l.name, type: l.type, legacyType: l.legacyType, reason: l.reason })),
    );

  const modelDir = path.join(dir, o.name);
  if (fs.existsSync(modelDir) && (!fs.statSync(modelDir).isDirectory() || fs.readdirSync(modelDir).length > 0) && !o.overwrite)
    throw new InputError(`exportTriton: '${modelDir}' exists and is not empty; pass overwrite: true to replace it`);

  let files: [string, string | Uint8Array][];
  let io: { inputs: TritonTensor[]; outputs: TritonTensor[] };
  if (o.backend === "onnxruntime") {
    const bytes = networkToONNX(net);
    io = onnxTensors(bytes, path.join(modelDir, "1", "model.onnx"));
    files = [["model.onnx", bytes]];
  } else {
    const { xml, bin } = graphToIR(prepared);
    io = irTensors(prepared);
    files = [
      ["model.xml", xml],
      ["model.bin", bin],
    ];
  }
  const config = tritonConfig({ ...o, preferredBatchSizes: options.preferredBatchSizes }, io, comment);

  try {
    if (o.overwrite) fs.rmSync(modelDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(modelDir, "1"), { recursive: true });
    const written = [path.join(modelDir, "config.pbtxt")];
    fs.writeFileSync(written[0], config);
    for (const [f, data] of files) {
      written.push(path.join(modelDir, "1", f));
      fs.writeFileSync(written[written.length - 1], data);
    }
    return { modelDir, files: written, config };
  } catch (e) {
    throw new ModelError(modelDir, `cannot write the model repository entry: ${(e as Error).message}`);
  }
}
