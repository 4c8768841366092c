/**
 * CNNNetwork: a graph as read, plus the input shapes the user chose (batchSize, reshape).
 * Shapes are always re-inferred from the original graph, so constant folding done for one
 * batch never leaks into another.
 */
import { DimSpec, Graph, Node, nodeMap } from "../graph/graph";
import { getOpDef } from "../graph/ops/registry";
import type { CustomOpDef } from "../graph/ops/types";
import { customOpDef, Extension, extensionMatches } from "./extension";
import { numel } from "../graph/ops/util";
import { opDefOf, prepare } from "../graph/prepare";
import { findIo, graphInputs, graphOutputs, GraphIo } from "../graph/io";
import { boundsText, declaredDims, dimLabel, outOfBounds } from "../graph/dims";
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
import type { SplitPlan } from "../analysis/split";
import { exportTriton, TritonExport, TritonOptions } from "./triton";

export interface PortInfo {
  /** -1 for an axis the model leaves free and no reshape has bound yet. */
  shape: number[];
  precision: Precision;
  layout: string;
  /** Inputs the model declares with a free axis: each axis as declared (a fixed model has none). */
  dims?: DimInfo[];
}

/** One axis of a network input as the model declares it. */
export interface DimInfo {
  /** The size the model fixes, or -1 for a free axis (ONNX `dim_param` or missing, IR `?`, `-1`, `1..10`). */
  declared: number;
  /** The ONNX `dim_param` of a free axis. */
  name?: string;
  /** Bounds of a free IR axis (`1..10`): the sizes reshape accepts. */
  min?: number;
  max?: number;
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

function dimInfo(d: DimSpec): DimInfo {
  const info: DimInfo = { declared: d.size };
  if (d.name !== undefined) info.name = d.name;
  if (d.min !== undefined) info.min = d.min;
  if (d.max !== undefined) info.max = d.max;
  return info;
}

/** Builds a SplitNetwork; split_network.ts registers it, since it extends CNNNetwork and network.ts cannot import it. */
type SplitFactory = (plan: SplitPlan, inputShapes: Record<string, number[]>) => CNNNetwork;
let splitFactory: SplitFactory | undefined;

export function registerSplitNetwork(f: SplitFactory): void {
  splitFactory = f;
}

function splitNetworkOf(plan: SplitPlan, inputShapes: Record<string, number[]>): CNNNetwork {
  if (!splitFactory) throw new Error("kernel/runtime/split_network.ts was not loaded: import dynbatch from its index");
  return splitFactory(plan, inputShapes);
}

export class CNNNetwork {
  // Keyed by input names from the model: null-prototype, so "__proto__" is a name like any other.
  private inputShapes: Record<string, number[]> = dict();
  private cache: Graph | undefined;

  /** Shape rules of the extensions this graph's custom layers use, by layer type. */
  private readonly customOps = new Map<string, CustomOpDef>();
  private readonly extensions = new Map<string, Extension>();
  /** Every layer has a shape rule (built in or from an extension): the network can be prepared. */
  readonly runnable: boolean;
  /** The changes fixForDynamicBatch() applied to make this network; analyze() reports them. */
  private fixes: BatchFixChange[] = [];

  /** `extensions`: those registered with ie.addExtension when the network was read. */
  constructor(
    readonly graph: Graph,
    extensions: readonly Extension[] = [],
  ) {
    for (const n of graph.nodes) {
      const ext = getOpDef(n.type) ? undefined : extensions.find((e) => extensionMatches(e, n));
      if (ext && !this.extensions.has(n.type)) {
        this.extensions.set(n.type, ext);
        this.customOps.set(n.type, customOpDef(ext));
      }
    }
    // A layer no one implements still reads: analyze() blocks on it, loadNetwork names it and addExtension.
    this.runnable = graph.nodes.every((n) => opDefOf(n.type, this.customOps));
    for (const io of graphInputs(graph)) {
      const shape = this.param(io).outputs[0].shape;
      // Nothing could run: the native program needs a batch of at least 1.
      if (shape[0] === 0)
        throw new ModelError(graph.file, `input shape [${shape}] has batch 0; the batch must be at least 1`, io.name);
      // A free batch alone starts at 1, as the Inference Engine's reshape defaults do; any other
      // free dim leaves the input unbound (batch included) until reshape says what it is.
      if (shape[0] < 0 && shape.slice(1).every((d) => d >= 0)) this.inputShapes[io.name] = [1, ...shape.slice(1)];
    }
    if (this.isBound() && this.runnable) this.prepared();
  }

  get name(): string {
    return this.graph.name;
  }

  private param(io: GraphIo) {
    return this.graph.nodes.find((n) => n.id === io.ref.node)!;
  }

  /** The extension that computes layer `n`, when it is a custom layer. */
  extensionOf(n: Node): Extension | undefined {
    const ext = this.extensions.get(n.type);
    return ext && extensionMatches(ext, n) ? ext : undefined;
  }

  /** Whether every input dim has a size (no free dim left for reshape to bind). */
  isBound(): boolean {
    return Object.values(this.currentInputShapes()).every((s) => s.every((d) => d >= 0));
  }

  /**
   * The graph with shapes inferred for the current input shapes and constants folded. Throws
   * UnboundShapeError, listing every free dim, while an input is not bound.
   */
  prepared(batch?: number): Graph {
    if (batch !== undefined && batch !== this.batchSize) {
      const shapes = dict(Object.entries(this.currentInputShapes()).map(([k, s]) => [k, s.length ? [batch, ...s.slice(1)] : s]));
      return prepare(this.graph, { inputShapes: shapes, customOps: this.customOps });
    }
    this.cache ??= prepare(this.graph, { inputShapes: this.inputShapes, customOps: this.customOps });
    return this.cache;
  }

  /** Per input: the shape reshape or batchSize gave, else the model's own (-1 where free). */
  private currentInputShapes(): Record<string, number[]> {
    return dict(
      graphInputs(this.graph).map((io) => [io.name, this.inputShapes[io.name] ?? [...this.param(io).outputs[0].shape]]),
    );
  }

  /** Axis 0 of the first input (the Inference Engine's notion of the network batch); -1 while it is free. */
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

  /**
   * Sets the shapes of the named inputs and re-infers every shape. Binds the dims the model leaves
   * free; a fixed dim may change too (OpenVINO's reshape allows it), but not the rank, and a
   * bounded dim stays within its bounds.
   */
  reshape(shapes: Record<string, number[]>): void {
    const ios = graphInputs(this.graph);
    for (const [name, shape] of Object.entries(shapes)) {
      const io = findIo(ios, name);
      if (!io) continue; // apply() names it
      const declared = declaredDims(this.param(io));
      const show = `[${declared.map((d) => (d.size >= 0 ? d.size : dimLabel(d))).join(",")}]`;
      if (!Array.isArray(shape) || shape.length !== declared.length)
        throw new InputError(
          `reshape of input '${name}': shape [${shape}] has rank ${Array.isArray(shape) ? shape.length : "?"}, the model's input ${show} has rank ${declared.length}`,
        );
      shape.forEach((size, axis) => {
        if (Number.isInteger(size) && outOfBounds(declared[axis], size))
          throw new InputError(
            `reshape of input '${name}': axis ${axis} of ${show} must be within ${boundsText(declared[axis])}, got ${size}`,
          );
      });
    }
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
      // batchSize keeps the free dims of an unbound input free (-1); reshape gives sizes.
      const free = batch !== undefined ? this.currentInputShapes()[io.name] : [];
      if (!Array.isArray(shape) || shape.some((d, axis) => !(Number.isInteger(d) && (d >= 1 || (d === -1 && free[axis] === -1)))))
        throw new InputError(`shape for input '${name}' must be positive integers, got [${shape}]`);
      next[io.name] = [...shape];
    }
    if (ios.some((io) => (next[io.name] ?? this.param(io).outputs[0].shape).some((d) => d < 0))) {
      // Still unbound: nothing to infer yet; prepared() and analyze() will say which dims are missing.
      this.inputShapes = next;
      this.cache = undefined;
      return;
    }
    const candidate = prepare(this.graph, { inputShapes: next, customOps: this.customOps });
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
    // Unbound, nothing can be inferred: inputs show -1 where free, outputs what the model declares.
    const g = this.isBound() && this.runnable ? this.prepared() : this.graph;
    const current = this.currentInputShapes();
    const ios = which === "in" ? graphInputs(g) : graphOutputs(g);
    const byId = nodeMap(g);
    return record(
      ios.map((io) => {
        const shape = which === "in" ? current[io.name] : byId.get(io.ref.node)!.outputs[io.ref.port].shape;
        const info: PortInfo = { shape: [...shape], precision: "FP32" as Precision, layout: layoutFor(shape.length) };
        const declared = which === "in" ? declaredDims(byId.get(io.ref.node)!) : [];
        if (declared.some((d) => d.size < 0)) info.dims = declared.map(dimInfo);
        return [io.name, info] as const;
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
    return batchAxes(this.graph, { inputShapes: this.inputShapes, customOps: this.customOps });
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
    const report = analyze(this.graph, {
      mode: opts.mode ?? "shape-aware",
      inputShapes: this.inputShapes,
      customOps: this.customOps,
    });
    return this.fixes.length ? { ...report, fixes: this.fixes } : report;
  }

  /**
   * A copy of this network rewritten to take a dynamic batch where a proven rewrite exists (a
   * Reshape or Flatten that hard-codes the batch keeps axis 0 instead, and so does an attention q/k/v
   * Transpose that moves it to axis 1; layers that mix samples are split off into a tail run once
   * per sample, a SplitNetwork), and every change: applied with its proof (symbolic, and batch
   * 1..4 against batch-1 runs on the CPU), or refused with why.
   */
  async fixForDynamicBatch(): Promise<{ network: CNNNetwork; changes: BatchFixChange[] }> {
    const { graph, changes, split } = await fixGraph(this.graph, { inputShapes: this.inputShapes });
    const network = split ? splitNetworkOf(split, this.inputShapes) : new CNNNetwork(graph);
    if (!split && Object.keys(this.inputShapes).length > 0) network.reshape(this.inputShapes);
    network.fixes = changes.filter((c) => c.applied);
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
