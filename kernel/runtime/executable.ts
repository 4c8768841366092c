/** ExecutableNetwork: a network compiled for one device and a maximum batch. */
import { CompiledModel } from "../plugins";
import { TopologyReport } from "../schema";
import { layoutFor, Precision } from "./blob";
import { PortInfo } from "./network";
import { InferRequest } from "./request";
import { record } from "../dict";

export class ExecutableNetwork {
  constructor(
    private readonly model: CompiledModel,
    /** Largest batch a request may set (the network's batch, capped by DYN_BATCH_LIMIT). */
    readonly batchLimit: number,
    /** Whether requests accept setBatch(). */
    readonly dynamicBatch: boolean,
    readonly device: string,
    /** The analysis run at load time (when dynamic batching was requested). */
    readonly analysis?: TopologyReport,
  ) {}

  createInferRequest(): InferRequest {
    return new InferRequest(this.model, this.batchLimit, this.dynamicBatch);
  }

  private ports(list: CompiledModel["inputs"]): Record<string, PortInfo> {
    return record(
      list.map(
        (b) => [b.name, { shape: [...b.shape], precision: "FP32" as Precision, layout: layoutFor(b.shape.length) }] as const,
      ),
    );
  }

  get inputs(): Record<string, PortInfo> {
    return this.ports(this.model.inputs);
  }

  get outputs(): Record<string, PortInfo> {
    return this.ports(this.model.outputs);
  }
}
