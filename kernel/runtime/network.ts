/**
 * CNNNetwork: a graph as read, plus the input shapes the user chose (batchSize, reshape).
 * Shapes are always re-inferred from the original graph, so constant folding done for one
 * batch never leaks into another.
 */
import { Graph, nodeMap } from "../graph/graph";
import { numel } from "../graph/ops/util";
import { prepare } from "../graph/prepare";
import { findIo, graphInputs, graphOutputs } from "../graph/io";
import { analyze, batchAxes } from "../analysis";
import { AnalysisMode, BatchFixChange, TopologyReport } from "../schema";
import { BatchRangeError, DynbatchError, InputError, ModelError, NotFoundError } from "../errors";
import { layoutFor, Precision } from "./blob";
import { gib } from "./config";
import { MAX_PROGRAM_BYTES } from "../plugins/plugin";
import { serializeNetwork } from "../serialize";
import { dict, record } from "../dict";
import { QuantizeOptions, quantizeGraph } from "./quantize";
import { fixGraph } from "./fix";
import { exportTriton, TritonExport, TritonOptions } from "./triton";

export interface PortInfo {
  shape: number[];
  precision: Precision;
  layout: string;
}

export interface LayerInfo {
  name: string;
  type: string;
}

/** The largest activation of a prepared graph (inputs included, constants not): f32 bytes and where it is. */
export function largestTensor(g: Graph): { bytes: number; layer: string; port: number; shape: number[] } {
  let best = { bytes: 0, layer: "", port: 0, shape: [] as number[] };
  for (const n of g.nodes) {
    if (n.type === "Const" || n.folded) continue;
    n.outputs.forEach((o, port) => {
      const bytes = numel(o.shape) * Float32Array.BYTES_PER_ELEMENT;
      if (bytes > best.bytes) best = { bytes, layer: n.name, port, shape: o.shape };
    });
  }
  return best;
}

export class CNNNetwork {
  // Keyed by input names from the model: null-prototype, so "__proto__" is a name like any other.
  private inputShapes: Record<string, number[]> = dict();
  private cache: Graph | undefined;

  constructor(readonly graph: Graph) {
    // Dynamic dims (ONNX "batch", IR "?") start at 1, as the Inference Engine's reshape defaults do.
    for (const io of graphInputs(graph)) {
      const shape = graph.nodes.find((n) => n.id === io.ref.node)!.outputs[0].shape;
      // Nothing could run: the native program needs a batch of at least 1.
      if (shape[0] === 0)
        throw new ModelError(graph.file, `input shape [${shape}] has batch 0; the batch must be at least 1`, io.name);
      if (shape.some((d) => d < 0)) this.inputShapes[io.name] = shape.map((d) => (d < 0 ? 1 : d));
    }
    this.prepared();
  }

  get name(): string {
    return this.graph.name;
  }

  /** The graph with shapes inferred for the current input shapes and constants folded. */
  prepared(batch?: number): Graph {
    if (batch !== undefined && batch !== this.batchSize) {
      const shapes = dict(Object.entries(this.currentInputShapes()).map(([k, s]) => [k, s.length ? [batch, ...s.slice(1)] : s]));
      return prepare(this.graph, { inputShapes: shapes });
    }
    this.cache ??= prepare(this.graph, { inputShapes: this.inputShapes });
    return this.cache;
  }

  private currentInputShapes(): Record<string, number[]> {
    const g = this.prepared();
    return dict(graphInputs(g).map((io) => [io.name, g.nodes.find((n) => n.id === io.ref.node)!.outputs[0].shape]));
  }

  /** Axis 0 of the first input (the Inference Engine's notion of the network batch). */
  get batchSize(): number {
    const shapes = Object.values(this.currentInputShapes());
    return shapes.length && shapes[0].length ? shapes[0][0] : 1;
  }

  /** Sets axis 0 of every input: the maximum batch when loaded with DYN_BATCH_ENABLED. */
  set batchSize(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new InputError(`batchSize must be a positive integer, got ${n}`);
    const shapes = this.currentInputShapes();
    this.apply(dict(Object.entries(shapes).map(([k, s]) => [k, s.length ? [n, ...s.slice(1)] : s])), n);
  }

  /** Sets the shapes of the named inputs and re-infers every shape. */
  reshape(shapes: Record<string, number[]>): void {
    this.apply(shapes);
  }

  /** reshape(); `batch` is set when batchSize called it, to refuse a batch no device could allocate. */
  private apply(shapes: Record<string, number[]>, batch?: number): void {
    const ios = graphInputs(this.graph);
    const next = dict(Object.entries(this.inputShapes));
    for (const [name, shape] of Object.entries(shapes)) {
      const io = findIo(ios, name);
      if (!io)
        throw new NotFoundError(`${this.graph.file}: no input named '${name}'; inputs: ${ios.map((i) => i.name).join(", ")}`);
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1))
        throw new InputError(`shape for input '${name}' must be positive integers, got [${shape}]`);
      next[io.name] = [...shape];
    }
    const candidate = prepare(this.graph, { inputShapes: next });
    const big = largestTensor(candidate);
    // Refused here rather than at loadNetwork, where it would only fail after the analysis.
    if (batch !== undefined && big.bytes > MAX_PROGRAM_BYTES) {
      const fits = Math.floor((batch * MAX_PROGRAM_BYTES) / big.bytes);
      // Not even one sample fits: the network's shapes are the problem, not the batch.
      if (fits < 1)
        throw new ModelError(
          this.graph.file,
          `output ${big.port} [${big.shape}] needs ${gib(big.bytes)} at batch ${batch}: no batch fits this machine's ` +
            `tensor budget of ${gib(MAX_PROGRAM_BYTES)}`,
          big.layer,
        );
      throw new BatchRangeError(
        batch,
        fits,
        `batchSize ${batch} needs ${gib(big.bytes)} for output ${big.port} of layer '${big.layer}' [${big.shape}] alone, ` +
          `beyond this machine's tensor budget of ${gib(MAX_PROGRAM_BYTES)}; at most batch ${fits} fits`,
      );
    }
    this.inputShapes = next;
    this.cache = candidate;
  }

  private ports(which: "in" | "out"): Record<string, PortInfo> {
    const g = this.prepared();
    const ios = which === "in" ? graphInputs(g) : graphOutputs(g);
    const byId = nodeMap(g);
    return record(
      ios.map((io) => {
        const shape = byId.get(io.ref.node)!.outputs[io.ref.port].shape;
        return [io.name, { shape: [...shape], precision: "FP32" as Precision, layout: layoutFor(shape.length) }] as const;
      }),
    );
  }

  get inputs(): Record<string, PortInfo> {
    return this.ports("in");
  }

  get outputs(): Record<string, PortInfo> {
    return this.ports("out");
  }

  /** Every layer of the model as read (constants included). */
  get layers(): LayerInfo[] {
    return this.graph.nodes.map((n) => ({ name: n.name, type: n.type }));
  }

  /** Per node id and output: whether axis 0 is the batch N (see analysis/symbolic). */
  batchAxes(): Map<number, boolean[]> {
    return batchAxes(this.graph, { inputShapes: this.inputShapes });
  }

  /**
   * Writes the network at its current input shapes: ONNX when `path` ends in .onnx (opset 18, FP32
   * weights, batch axis "N" when the network runs at any batch), IR v11 when it ends in .xml (the
   * .bin beside it). Throws UnsupportedError for a layer ONNX cannot express (DetectionOutput).
   */
  serialize(path: string): void {
    serializeNetwork(this, path);
  }

  /**
   * A new network with FakeQuantize before the inputs of every Convolution and MatMul: activations
   * per tensor from min/max (or `percentile`) over `calibration` runs at batch 1, weights
   * symmetric per output channel. Throws InputError for calibration of the wrong shape or too few samples.
   */
  async quantize(opts: QuantizeOptions): Promise<CNNNetwork> {
    const q = new CNNNetwork(await quantizeGraph(this.graph, this.inputShapes, opts));
    q.reshape(this.currentInputShapes());
    return q;
  }

  /** Can this network run with a dynamic batch? Never throws for an unsupported topology. */
  analyze(opts: { mode?: AnalysisMode } = {}): TopologyReport {
    return analyze(this.graph, { mode: opts.mode ?? "shape-aware", inputShapes: this.inputShapes });
  }

  /**
   * A copy of this network rewritten to take a dynamic batch where a proven rewrite exists (a
   * Reshape or Flatten that hard-codes the batch keeps axis 0 instead), and every change: applied
   * with its proof (symbolic, and batch 1..4 against batch-1 runs on the CPU), or refused with why.
   */
  async fixForDynamicBatch(): Promise<{ network: CNNNetwork; changes: BatchFixChange[] }> {
    const { graph, changes } = await fixGraph(this.graph, { inputShapes: this.inputShapes });
    const network = new CNNNetwork(graph);
    if (Object.keys(this.inputShapes).length > 0) network.reshape(this.inputShapes);
    return { network, changes };
  }

  /**
   * Writes a Triton model repository entry: `<dir>/<name>/config.pbtxt` and `<dir>/<name>/1/model.onnx`
   * (backend "onnxruntime", the default) or `model.xml`/`model.bin` ("openvino"). Refuses with
   * TritonExportError, naming the blocking layers, when the batch is not proven independent.
   */
  async exportTriton(dir: string, options: TritonOptions): Promise<TritonExport> {
    return exportTriton(this, dir, options, this.batchLimit());
  }

  /** The largest batch whose largest activation fits this machine's tensor budget. */
  private batchLimit(): number {
    let perSample: number;
    try {
      perSample = largestTensor(this.prepared(1)).bytes;
    } catch (e) {
      // A network that cannot even run at batch 1 is refused by the analysis; its own batch is the limit meanwhile.
      if (e instanceof DynbatchError) return this.batchSize;
      throw e;
    }
    return Math.max(1, Math.floor(MAX_PROGRAM_BYTES / Math.max(1, perSample)));
  }
}
