/**
 * InferRequest: one set of input/output buffers over a compiled program. setBatch(n) picks how
 * many samples the next infer() computes; outputs are shaped [n, ...].
 */
import { BatchRangeError, DynamicBatchNotEnabledError, InputError, NotFoundError, RequestBusyError } from "../errors";
import { CompiledModel, DeviceRequest, IoBinding } from "../plugins";
import { Blob, layoutFor } from "./blob";
import { record } from "../dict";

export interface PerfCount {
  status: "EXECUTED" | "NOT_RUN";
  layerType: string;
  execType: string;
  realTimeUs: number;
  cpuTimeUs: number;
  /** Precision the layer ran in, as OpenVINO reports it: "FP32", or "U8" for an int8 convolution or matmul; absent for a fused layer or where the device does not say. */
  precision?: string;
  /** Set for a layer fused into another (NOT_RUN): the layer whose kernel computes it. */
  fusedInto?: string;
}

export class InferRequest {
  private batch: number;
  private pending: Promise<void> | undefined;
  private times: Float64Array | undefined;
  private readonly device: DeviceRequest;

  constructor(
    private readonly model: CompiledModel,
    private readonly limit: number,
    private readonly dynamic: boolean,
  ) {
    this.device = model.createRequest();
    this.batch = limit;
  }

  /** The batch the next infer() runs. */
  get batchSize(): number {
    return this.batch;
  }

  setBatch(n: number): void {
    if (!this.dynamic) throw new DynamicBatchNotEnabledError();
    if (!Number.isInteger(n) || n < 1 || n > this.limit) throw new BatchRangeError(n, this.limit);
    this.assertIdle();
    this.batch = n;
  }

  private assertIdle(): void {
    if (this.pending) throw new RequestBusyError();
  }

  private find(name: string): { io: IoBinding; input: boolean } {
    const input = this.model.inputs.find((b) => b.aliases.includes(name));
    if (input) return { io: input, input: true };
    const output = this.model.outputs.find((b) => b.aliases.includes(name));
    if (output) return { io: output, input: false };
    const names = [...this.model.inputs, ...this.model.outputs].map((b) => b.name);
    throw new NotFoundError(`No input or output named '${name}'; available: ${names.join(", ")}`);
  }

  private shapeNow(io: IoBinding): number[] {
    return io.batched ? [this.batch, ...io.shape.slice(1)] : [...io.shape];
  }

  /** A view of the named input or output for the current batch; writing an input's data sets it. */
  getBlob(name: string): Blob {
    const { io } = this.find(name);
    const shape = this.shapeNow(io);
    const size = shape.reduce((a, b) => a * b, 1);
    return new Blob(shape, this.device.buffer(io.tensor).subarray(0, size), layoutFor(shape.length));
  }

  /** Copies `data` into the named input; its length must match the input at the current batch. */
  setInput(name: string, data: ArrayLike<number>): void {
    const { io, input } = this.find(name);
    if (!input) throw new InputError(`'${name}' is an output; setInput takes an input name`);
    this.assertIdle();
    const shape = this.shapeNow(io);
    const size = shape.reduce((a, b) => a * b, 1);
    if (!data || typeof data.length !== "number" || data instanceof BigInt64Array || data instanceof BigUint64Array)
      throw new InputError(`setInput('${name}'): expected a Float32Array or array of numbers`);
    if (data.length !== size)
      throw new InputError(
        `setInput('${name}'): got ${data.length} values, expected ${size} for shape [${shape.join(",")}] at batch ${this.batch}`,
      );
    this.device.prepare?.(this.batch);
    this.device.buffer(io.tensor).set(data);
  }

  /** Runs the network on the current batch: a short run (under 1 ms) on this thread, a longer one off it. */
  infer(): Promise<void> {
    // An async call reports every failure through its promise: `infer().catch()` sees REQUEST_BUSY too.
    try {
      this.startAsync();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.wait();
  }

  startAsync(): void {
    this.assertIdle();
    this.pending = this.device.run(this.batch).then(
      (t) => {
        this.times = t;
        this.pending = undefined;
      },
      (e) => {
        this.pending = undefined;
        throw e;
      },
    );
  }

  /** Resolves when the started inference finishes (immediately when none runs). */
  async wait(): Promise<void> {
    if (this.pending) await this.pending;
  }

  /** Per-layer execution times of the last run, like benchmark_app -pc. */
  getPerformanceCounts(): Record<string, PerfCount> {
    // Keyed by layer names from the model ("__proto__" included).
    return record(
      this.model.layers.map((l, i) => {
        const us = this.times ? this.times[i] : 0;
        const count: PerfCount = {
          status: this.times && !l.fusedInto ? "EXECUTED" : "NOT_RUN",
          layerType: l.type,
          execType: l.fusedInto ? "undef" : l.execType,
          realTimeUs: us,
          cpuTimeUs: us,
          ...(l.precision && !l.fusedInto ? { precision: l.precision } : {}),
          ...(l.fusedInto ? { fusedInto: l.fusedInto } : {}),
        };
        return [l.name, count] as const;
      }),
    );
  }
}
