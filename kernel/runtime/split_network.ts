/**
 * A network fixForDynamicBatch() split into a batchable body and a per-sample tail
 * (kernel/analysis/split.ts). As a CNNNetwork it is the body: batchSize, the inputs and the
 * analysis are the body's, which is proven per sample; its outputs are the original's, the tail's
 * joined over the batch. ie.loadNetwork compiles it with loadSplit into a SplitExecutableNetwork.
 */
import { Graph } from "../graph/graph";
import { graphOutputs } from "../graph/io";
import { numel } from "../graph/ops/util";
import { SplitPlan } from "../analysis/split";
import { AnalysisMode, TopologyReport } from "../schema";
import { InputError, SplitNetworkError } from "../errors";
import { CompiledModel, CompileOptions, Plugin } from "../plugins";
import { DeviceConfig } from "./config";
import { CNNNetwork, PortInfo, registerSplitNetwork } from "./network";
import { ExecutableNetwork } from "./executable";
import { InferRequest } from "./request";
import { Blob, layoutFor } from "./blob";
import { joinedShape, SplitModel, splitModel } from "./split_model";
import { QuantizeOptions } from "./quantize";
import { TritonExport, TritonOptions } from "./triton";
import { dict, record } from "../dict";

export class SplitNetwork extends CNNNetwork {
  /** The network run once per sample at batch 1: the cut tensors in, the tail's outputs out. */
  readonly tail: CNNNetwork;
  /** Per input, axis 1 on: the shapes the split was proven at (the tail's constants hold for these only). */
  private readonly proven: Record<string, number[]>;

  constructor(
    readonly plan: SplitPlan,
    inputShapes: Record<string, number[]>,
  ) {
    super(plan.body);
    if (Object.keys(inputShapes).length > 0) super.reshape(inputShapes);
    this.tail = new CNNNetwork(plan.tail);
    this.proven = dict(Object.entries(super.inputs).map(([k, p]) => [k, p.shape.slice(1)]));
  }

  /** The body alone, a network of its own: it serializes and exports, with the cut tensors as its outputs. */
  body(): CNNNetwork {
    const b = new CNNNetwork({ ...this.plan.body, name: `${this.plan.body.name}/body` });
    b.reshape(dict(Object.entries(super.inputs).map(([k, p]) => [k, p.shape])));
    return b;
  }

  /** Only axis 0 may change: the tail was proven, and its constants folded, at the other axes' sizes. */
  reshape(shapes: Record<string, number[]>): void {
    for (const [name, shape] of Object.entries(shapes)) {
      const want = this.proven[name];
      if (want && Array.isArray(shape) && shape.slice(1).join(",") !== want.join(","))
        throw new InputError(
          `reshape of input '${name}' of a split network: only axis 0 may change; axes 1.. were proven at [${want}], ` +
            `got [${shape.slice(1)}]. Reshape the original network and call fixForDynamicBatch() again`,
        );
    }
    super.reshape(shapes);
  }

  get outputs(): Record<string, PortInfo> {
    const bodyPorts = super.outputs;
    const keyIn = (g: Graph, result: string) => graphOutputs(g).find((io) => io.aliases.includes(result))!.name;
    return record(
      this.plan.outputs.map((o) => {
        if (o.from === "body") {
          const key = keyIn(this.plan.body, o.result);
          return [key, bodyPorts[key]] as const;
        }
        const shape = joinedShape(o, this.batchSize);
        return [keyIn(this.plan.tail, o.result), { shape, precision: "FP32", layout: layoutFor(shape.length) }] as const;
      }),
    );
  }

  /** The body's analysis, with the tail's layers shown as supported: each runs at batch 1 once per sample. */
  analyze(opts: { mode?: AnalysisMode } = {}): TopologyReport {
    const body = super.analyze(opts);
    // Constants only the tail reads were pruned from the body: its layers' inputs name the layers the report has.
    const known = new Set(body.layers.map((l) => l.id));
    const tail = this.plan.tailVerdicts.map((l) => {
      const inputs = l.inputs.filter((id) => known.has(id));
      known.add(l.id);
      return { ...l, inputs };
    });
    const layers = [...body.layers, ...tail];
    return {
      ...body,
      layers,
      summary: { ...body.summary, total: layers.length, supported: body.summary.supported + this.plan.tailVerdicts.length },
    };
  }

  private refuse(operation: string): SplitNetworkError {
    return new SplitNetworkError(
      this.name,
      operation,
      this.plan.mixing.map((m) => m.name),
      this.plan.tailLayers.length,
    );
  }

  /** Refused (SplitNetworkError): a model file cannot say "run this part once per sample". */
  serialize(_path: string): void {
    throw this.refuse("serialize");
  }

  /** Refused (SplitNetworkError): Triton would batch the tail too, computing something else. */
  exportTriton(_dir: string, _options: TritonOptions): Promise<TritonExport> {
    return Promise.reject(this.refuse("exportTriton"));
  }

  /** Refused (SplitNetworkError): quantize the original, then fix it. */
  quantize(_opts: QuantizeOptions): Promise<CNNNetwork> {
    return Promise.reject(this.refuse("quantize"));
  }
}

registerSplitNetwork((plan, inputShapes) => new SplitNetwork(plan, inputShapes));

/** Requests of a split network: a tail output's blob is shaped for the current batch along its own axis. */
export class SplitInferRequest extends InferRequest {
  constructor(
    private readonly split: SplitModel,
    limit: number,
    dynamic: boolean,
  ) {
    super(split, limit, dynamic);
  }

  getBlob(name: string): Blob {
    const blob = super.getBlob(name);
    const index = this.split.outputs.findIndex((b) => b.aliases.includes(name));
    if (index < 0 || this.split.outputs[index].tensor >= 0) return blob;
    const shape = this.split.shapeAt(index, this.batchSize);
    return new Blob(shape, blob.data.subarray(0, numel(shape)), layoutFor(shape.length));
  }
}

export class SplitExecutableNetwork extends ExecutableNetwork {
  constructor(
    private readonly split: SplitModel,
    batchLimit: number,
    dynamicBatch: boolean,
    device: string,
    analysis?: TopologyReport,
  ) {
    super(split, batchLimit, dynamicBatch, device, analysis);
  }

  createInferRequest(): InferRequest {
    return new SplitInferRequest(this.split, this.batchLimit, this.dynamicBatch);
  }
}

/** What ie.loadNetwork hands loadSplit: the device, its configuration and how it compiles. */
export interface SplitLoader {
  plugin: Plugin;
  config: DeviceConfig;
  compile(net: CNNNetwork, prepared: Graph, opts: CompileOptions): CompiledModel;
  /** Refuses a prepared graph whose largest tensor is above MAX_TENSOR_BYTES. */
  checkBytes(prepared: Graph): Graph;
}

/**
 * Compiles the body at the network's batch (the maximum for setBatch with DYN_BATCH_ENABLED,
 * capped by DYN_BATCH_LIMIT) and the tail at batch 1, on the same device.
 */
export function loadSplit(net: SplitNetwork, l: SplitLoader): SplitExecutableNetwork {
  const c = l.config;
  const limit = c.dynBatchEnabled && c.dynBatchLimit > 0 ? Math.min(c.dynBatchLimit, net.batchSize) : net.batchSize;
  const threads = c.threads > 0 ? c.threads : l.plugin.defaultThreads;
  const body = l.compile(net, l.checkBytes(net.prepared(limit)), {
    maxBatch: limit,
    batched: net.batchAxes(),
    threads,
    independentSamples: true,
    parallel: c.parallel,
  });
  const tail = l.compile(net.tail, l.checkBytes(net.tail.prepared()), {
    maxBatch: 1,
    batched: null,
    threads,
    independentSamples: false,
    parallel: c.parallel,
  });
  const model = splitModel(body, tail, net.plan.cuts, net.plan.outputs, limit, net.graph.file);
  const report = c.dynBatchEnabled ? net.analyze({ mode: "shape-aware" }) : undefined;
  return new SplitExecutableNetwork(model, limit, c.dynBatchEnabled, l.plugin.device, report);
}
