/**
 * Typed errors with stable codes. Every failure a user can cause (a bad file, a wrong shape,
 * a batch out of range) surfaces as one of these, never as a crash.
 */

export type ErrorCode =
  | "BAD_MODEL"
  | "UNSUPPORTED_FORMAT"
  | "UNSUPPORTED_OP"
  | "SHAPE_INFERENCE"
  | "UNBOUND_SHAPE"
  | "EXTENSION"
  | "DYN_BATCH_UNSUPPORTED_TOPOLOGY"
  | "DYN_BATCH_NOT_ENABLED"
  | "BATCH_OUT_OF_RANGE"
  | "UNKNOWN_DEVICE"
  | "BAD_CONFIG"
  | "BAD_INPUT"
  | "NOT_FOUND"
  | "REQUEST_BUSY"
  | "NATIVE"
  | "NATIVE_UNAVAILABLE"
  | "GPU_UNAVAILABLE"
  | "GPU_BUILD_FAILED"
  | "GPU_OUT_OF_MEMORY"
  | "GPU_RUNTIME"
  | "QUEUE_FULL"
  | "REQUEST_TIMEOUT"
  | "BATCHER_CLOSED"
  | "SPLIT_NETWORK";

export class DynbatchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The model file cannot be read: malformed XML/protobuf, missing or truncated .bin, bad offsets. */
export class ModelError extends DynbatchError {
  readonly file: string;
  readonly layer?: string;
  constructor(file: string, reason: string, layer?: string, code: ErrorCode = "BAD_MODEL") {
    super(code, `${file}${layer ? `: layer '${layer}'` : ""}: ${reason}`);
    this.file = file;
    this.layer = layer;
  }
}

/** A well-formed model uses something dynbatch does not implement (old IR version, op, ONNX external data). */
export class UnsupportedError extends ModelError {
  constructor(file: string, reason: string, layer?: string) {
    super(file, reason, layer, "UNSUPPORTED_OP");
  }
}

/** Shape inference failed for a layer (incompatible shapes, bad reshape target). */
export class ShapeError extends ModelError {
  constructor(file: string, layer: string, reason: string) {
    super(file, reason, layer, "SHAPE_INFERENCE");
  }
}

/** One input left with free dimensions: which axes, and what the model calls them ("H", "1..10", "?"). */
export interface UnboundInput {
  input: string;
  /** The input's dims, free ones as the model names them: ["N", 3, "H", "W"]. */
  dims: (number | string)[];
  axes: number[];
}

/**
 * Something needs concrete shapes (shape inference, analysis, loadNetwork) while inputs still have
 * free dimensions (ONNX `dim_param`, IR `?` or `1..10`) that only the batch may leave open.
 */
export class UnboundShapeError extends DynbatchError {
  readonly file: string;
  readonly inputs: UnboundInput[];
  constructor(file: string, inputs: UnboundInput[]) {
    const list = inputs
      .map((u) => `'${u.input}' [${u.dims.join(",")}] axes ${u.axes.map((a) => `${a} (${u.dims[a]})`).join(", ")}`)
      .join("; ");
    const example = inputs.map((u) => `${JSON.stringify(u.input)}: [...]`).join(", ");
    super(
      "UNBOUND_SHAPE",
      `${file}: input dimensions are not bound: ${list}; give them with net.reshape({ ${example} }) ` +
        `or ie.readNetwork(path, { shapes: { ${example} } })`,
    );
    this.file = file;
    this.inputs = inputs;
  }
}

export interface OffendingLayer {
  name: string;
  type: string;
  legacyType: string;
  reason: string;
}

/** loadNetwork with DYN_BATCH_ENABLED on a topology that cannot run with a dynamic batch. */
export class DynamicBatchError extends DynbatchError {
  readonly model: string;
  readonly mode: string;
  readonly layers: OffendingLayer[];
  constructor(model: string, mode: string, layers: OffendingLayer[]) {
    const list = layers.map((l) => `  - ${l.name} (${l.type} → ${l.legacyType}): ${l.reason}`).join("\n");
    super(
      "DYN_BATCH_UNSUPPORTED_TOPOLOGY",
      `Model '${model}': such topology cannot be compiled for dynamic batch (${mode} analysis); ` +
        `${layers.length} offending layer(s):\n${list}`,
    );
    this.model = model;
    this.mode = mode;
    this.layers = layers;
  }
}

export class BatchRangeError extends DynbatchError {
  readonly batch: number;
  readonly limit: number;
  /** `message` replaces the request's wording (CNNNetwork.batchSize says why the limit is what it is). */
  constructor(batch: number, limit: number, message?: string) {
    super(
      "BATCH_OUT_OF_RANGE",
      message ?? `Invalid dynamic batch size ${batch} for this request. Expected value in range [1;${limit}]`,
    );
    this.batch = batch;
    this.limit = limit;
  }
}

export class DynamicBatchNotEnabledError extends DynbatchError {
  constructor() {
    super(
      "DYN_BATCH_NOT_ENABLED",
      "Dynamic batch is not enabled. Load the network with DYN_BATCH_ENABLED=YES to call setBatch().",
    );
  }
}

export class UnknownDeviceError extends DynbatchError {
  readonly device: string;
  constructor(device: string, available: string[]) {
    super("UNKNOWN_DEVICE", `Device '${device}' is not registered; available devices: ${available.join(", ")}`);
    this.device = device;
  }
}

export class ConfigError extends DynbatchError {
  constructor(message: string) {
    super("BAD_CONFIG", message);
  }
}

export class InputError extends DynbatchError {
  constructor(message: string) {
    super("BAD_INPUT", message);
  }
}

export class NotFoundError extends DynbatchError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

export class RequestBusyError extends DynbatchError {
  constructor() {
    super("REQUEST_BUSY", "Infer request is busy: wait for the running inference before changing or starting it");
  }
}

/** A failure reported by the native backend (oneDNN status, out of memory). */
export class NativeError extends DynbatchError {
  constructor(message: string) {
    super("NATIVE", message);
  }
}

/**
 * The native addon was not built when the package was installed (no compiler or no oneDNN
 * headers then), or it does not load (a shared library it links is gone). `missing` lists the
 * Debian packages to install; the message holds the apt command and the rebuild step.
 */
export class NativeUnavailableError extends DynbatchError {
  readonly missing: string[];
  constructor(message: string, missing: string[]) {
    super("NATIVE_UNAVAILABLE", message);
    this.missing = missing;
  }
}

/**
 * The GPU plugin has no OpenCL device to run on: no OpenCL platform is installed (or the ICD
 * loader finds no driver), no device reports itself as a GPU, or the only device is a CPU one
 * (pocl) and DYNBATCH_GPU_ALLOW_CPU=1 is not set.
 */
export class GpuUnavailableError extends DynbatchError {
  readonly device: string;
  constructor(device: string, reason: string) {
    super("GPU_UNAVAILABLE", `Device '${device}' is not available: ${reason}`);
    this.device = device;
  }
}

export type GpuErrorCode = "GPU_BUILD_FAILED" | "GPU_OUT_OF_MEMORY" | "GPU_RUNTIME";

/**
 * An OpenCL failure in the GPU plugin: kernels that do not build (`buildLog` holds the
 * compiler's log), device memory exhausted (CL_MEM_OBJECT_ALLOCATION_FAILURE and the like), or
 * any other OpenCL or CLBlast status (`clStatus`).
 */
export class GpuError extends DynbatchError {
  readonly clStatus?: number;
  readonly buildLog?: string;
  constructor(code: GpuErrorCode, message: string, clStatus?: number, buildLog?: string) {
    super(code, message);
    this.clStatus = clStatus;
    this.buildLog = buildLog;
  }
}

/** A batcher's queue already holds maxQueue waiting samples: the call is refused at once (Triton's queue policy). */
export class QueueFullError extends DynbatchError {
  readonly maxQueue: number;
  constructor(maxQueue: number) {
    super("QUEUE_FULL", `Batcher queue is full (maxQueue = ${maxQueue} samples waiting); the sample was not queued`);
    this.maxQueue = maxQueue;
  }
}

/** A sample waited in a batcher's queue for its whole timeout before a batch took it: rejected, never computed. */
export class RequestTimeoutError extends DynbatchError {
  readonly waitedUs: number;
  readonly timeoutUs: number;
  constructor(waitedUs: number, timeoutUs: number) {
    super(
      "REQUEST_TIMEOUT",
      `Sample waited ${Math.round(waitedUs)} µs in the batcher queue, reaching timeoutUs = ${timeoutUs}; it was rejected and never computed`,
    );
    this.waitedUs = waitedUs;
    this.timeoutUs = timeoutUs;
  }
}

/** infer() on a batcher after close(): it drains what was queued and takes nothing new. */
export class BatcherClosedError extends DynbatchError {
  constructor() {
    super("BATCHER_CLOSED", "Batcher is closed: close() drains the samples already queued and refuses new ones");
  }
}

/** exportTriton on a network whose batch is not proven independent: Triton's batcher stacks requests along axis 0. */
export class TritonExportError extends DynamicBatchError {
  constructor(model: string, mode: string, layers: OffendingLayer[]) {
    super(model, mode, layers);
    this.message =
      `exportTriton: Triton's dynamic batcher stacks requests along axis 0, so every sample must be computed on its own. ` +
      `${this.message}\nTry \`const { network, changes } = await net.fixForDynamicBatch()\`: it rewrites Reshape/Flatten ` +
      `targets that hard-code the batch (and an attention q/k/v Transpose that moves it to axis 1) and proves each change; export \`network\` once it is supported. Layers that mix ` +
      `samples are split off into a per-sample tail instead, which one model file cannot hold: of a split network, ` +
      `export \`network.body()\` and run the tail where the results arrive.`;
  }
}

/** A custom layer's extension (ie.addExtension) is malformed, or its inferShape or compute misbehaved. */
export class ExtensionError extends DynbatchError {
  readonly extension: string;
  readonly layer?: string;
  constructor(extension: string, reason: string, layer?: string) {
    super("EXTENSION", `extension '${extension}'${layer ? `, layer '${layer}'` : ""}: ${reason}`);
    this.extension = extension;
    this.layer = layer;
  }
}

/**
 * serialize, exportTriton or quantize on a network fixForDynamicBatch() split: one model file
 * cannot hold a body run at batch n and a tail run once per sample.
 */
export class SplitNetworkError extends DynbatchError {
  readonly model: string;
  /** The layers that start the per-sample tail. */
  readonly mixing: string[];
  constructor(model: string, operation: string, mixing: string[], tailLayers: number) {
    super(
      "SPLIT_NETWORK",
      `${operation}: '${model}' was split by fixForDynamicBatch() into a batchable body and a per-sample tail of ` +
        `${tailLayers} layer(s) starting at ${mixing.map((m) => `'${m}'`).join(", ")}; one model file cannot run the tail ` +
        `once per sample. Use network.body() (the body alone, whose outputs are the tensors the tail reads) with ` +
        `network.tail run per sample, or the original network.`,
    );
    this.model = model;
    this.mixing = mixing;
  }
}
