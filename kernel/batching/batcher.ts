/**
 * Batcher: server-side dynamic batching (Triton's dynamic batcher, OpenVINO's AUTO_BATCH) over
 * an ExecutableNetwork. Independent callers each submit one sample; the batcher gathers what
 * waits into one batch and sends it when the batch is full or when the oldest waiting sample has
 * waited maxDelayUs (or earlier, under the work-conserving dispatch, dispatch.ts). `requests` batches compute at once (default 1, see BatcherOptions), and one
 * more infer request holds the next batch: once full it goes to the device at once, queued behind
 * the running one, so that between full batches the device never waits for JavaScript. Each
 * caller receives its own sample's outputs, shaped [1, …].
 *
 * A network loaded with DYN_BATCH_ENABLED runs each batch at its size (setBatch(n)). A network
 * without dynamic batching runs every batch at its static batch, the missing samples padded with
 * zeros: stats().paddedSamples counts the computed rows nobody asked for.
 */
import { BatcherClosedError, ConfigError, InputError, QueueFullError, RequestTimeoutError } from "../errors";
import { Blob, layoutFor } from "../runtime/blob";
import { ExecutableNetwork } from "../runtime/executable";
import { InferRequest } from "../runtime/request";
import { percentile } from "../bench/stats";
import { record } from "../dict";
import { Clock, realClock } from "./clock";
import { ArrivalRate, DISPATCH_POLICIES, DispatchPolicy, dueAt } from "./dispatch";
import { Port, SampleInputs, sampleValues } from "./sample_check";

export interface BatcherOptions {
  /**
   * How long the oldest waiting sample may wait for others before its batch is sent (µs).
   * Default 0, as Triton's max_queue_delay_microseconds: send whatever waits once a request is free.
   */
  maxDelayUs?: number;
  /**
   * When a batch short of full leaves (dispatch.ts). "deadline" (default): once its oldest sample
   * has waited maxDelayUs. "work-conserving": the same while a batch computes; while none does, as
   * soon as the measured arrival rate expects at most one more sample before that deadline, so a
   * lone sample at light load leaves at once. maxDelayUs bounds the wait under both.
   */
  dispatch?: DispatchPolicy;
  /** Samples waiting to be sent, at most; one more is refused at once with QueueFullError. Default: no bound. */
  maxQueue?: number;
  /** A sample that waits this long (µs) without being sent is rejected with RequestTimeoutError, never computed. Default: none. */
  timeoutUs?: number;
  /**
   * Batches computing at once, each on its own infer request; the maxDelay rule sends a partial
   * batch only while fewer run. Default 1: the CPU plugin runs a batch on every core
   * (CPU_THREADS_NUM = cores) and runs one at a time, so a second partial batch would only wait
   * behind the first instead of gathering more samples. One more request holds the next batch,
   * sent as soon as it is full (it cannot grow), even while `requests` batches run.
   */
  requests?: number;
  /** Largest batch formed (at most the network's batch limit, the default). */
  maxBatch?: number;
  /** Time source and timers; tests pass a manual clock. */
  clock?: Clock;
}

export type Priority = "high" | "normal";

export interface BatcherInferOptions {
  /** Samples of priority "high" are sent before any "normal" one (Triton's two priority levels). Default "normal". */
  priority?: Priority;
}

export type { SampleInputs } from "./sample_check";

export interface BatcherStats {
  /** Samples accepted into the queue. */
  submitted: number;
  /** Samples whose outputs were delivered. */
  completed: number;
  /** Batches sent to the network. */
  batches: number;
  /** Batch size n → batches of that size. */
  histogram: Record<number, number>;
  /** Time from submission to the sample's batch being sent, over the last 100,000 samples sent (µs; NaN before any). */
  queueWaitUs: { p50: number; p99: number };
  /** Refused at once: the queue was full. */
  rejected: number;
  /** Rejected after waiting timeoutUs; never computed. */
  timedOut: number;
  /** Refused at once: the sample did not match the network's inputs. */
  invalid: number;
  /** Samples whose batch failed in the network (each caller got the error). */
  failed: number;
  /** Rows computed only to fill a static batch. */
  paddedSamples: number;
  /** Samples computed by the network, padding excluded (timed-out samples never count here). */
  computedSamples: number;
  /** Waiting now / in batches running now. */
  queued: number;
  inFlight: number;
}

/** Samples whose queue wait stats() remembers. */
const WAIT_WINDOW = 100_000;

const OPTION_KEYS = ["maxDelayUs", "dispatch", "maxQueue", "timeoutUs", "requests", "maxBatch", "clock"];

interface Pending {
  /** The sample's values, one buffer per input, from the batcher's pool of sample buffers. */
  inputs: Float32Array[];
  enqueuedUs: number;
  resolve: (outputs: Record<string, Blob>) => void;
  reject: (e: unknown) => void;
}

/** An infer request with views of its inputs and outputs at the batch limit, taken once (getBlob per batch costs µs). */
interface Lane {
  req: InferRequest;
  inputs: Float32Array[];
  outputs: Float32Array[];
}

function numberOption(key: string, v: number | undefined, fallback: number, integer: boolean, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
    throw new ConfigError(
      `createBatcher: ${key} must be ${integer ? "an integer" : "a finite number of microseconds"} ≥ ${min}, got ${String(v)}`,
    );
  return v;
}

export class Batcher {
  private readonly maxDelayUs: number;
  private readonly dispatch: DispatchPolicy;
  /** Recent arrivals, for the work-conserving policy. */
  private readonly arrivals = new ArrivalRate();
  private readonly maxQueue: number;
  private readonly timeoutUs: number;
  private readonly maxBatch: number;
  private readonly clock: Clock;
  private readonly inputs: Port[];
  private readonly outputs: Port[];
  /** Batches computing at once (see BatcherOptions.requests). */
  private readonly slots: number;
  /** Idle requests. */
  private readonly free: Lane[];
  /** Batches sent and not yet answered. */
  private running = 0;
  /** Sample buffers of answered batches, reused by the next samples: no allocation per sample. */
  private readonly spare: Float32Array[][] = [];
  private readonly spareLimit: number;
  /** Waiting samples, oldest first: high priority, then normal. */
  private readonly queues: Record<Priority, Pending[]> = { high: [], normal: [] };
  private timer: unknown;
  /** When the armed timer fires (µs): arm() leaves it alone while that stays the next deadline. */
  private timerDue = NaN;
  /** Whether the armed timer polls (see arm()). */
  private timerPolls = true;
  private closing = false;
  private drained: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  /** Queue waits of the last WAIT_WINDOW samples sent, as a ring: a batcher serving for days keeps a bounded memory. */
  private readonly waits = new Float64Array(WAIT_WINDOW);
  private sent = 0;
  private readonly counts = {
    submitted: 0,
    completed: 0,
    batches: 0,
    rejected: 0,
    timedOut: 0,
    invalid: 0,
    failed: 0,
    paddedSamples: 0,
    computedSamples: 0,
    inFlight: 0,
  };
  private readonly histogram: Record<number, number> = {};

  constructor(
    /** The network the batches run on. */
    readonly exec: ExecutableNetwork,
    options: BatcherOptions = {},
  ) {
    if (options === null || typeof options !== "object") throw new ConfigError(`createBatcher: options must be an object`);
    for (const key of Object.keys(options))
      if (!OPTION_KEYS.includes(key))
        throw new ConfigError(`createBatcher: unknown option '${key}'; known options: ${OPTION_KEYS.join(", ")}`);
    this.maxDelayUs = numberOption("maxDelayUs", options.maxDelayUs, 0, false, 0);
    this.dispatch = options.dispatch ?? "deadline";
    if (!DISPATCH_POLICIES.includes(this.dispatch))
      throw new ConfigError(
        `createBatcher: dispatch must be ${DISPATCH_POLICIES.map((d) => `"${d}"`).join(" or ")}, got ${JSON.stringify(options.dispatch)}`,
      );
    this.maxQueue = numberOption("maxQueue", options.maxQueue, Infinity, true, 1);
    this.timeoutUs = numberOption("timeoutUs", options.timeoutUs, Infinity, false, 0);
    this.slots = numberOption("requests", options.requests, 1, true, 1);
    this.maxBatch = numberOption("maxBatch", options.maxBatch, exec.batchLimit, true, 1);
    if (this.maxBatch > exec.batchLimit)
      throw new ConfigError(`createBatcher: maxBatch ${this.maxBatch} exceeds the network's batch limit ${exec.batchLimit}`);
    this.clock = options.clock ?? realClock;
    const requests = Array.from({ length: this.slots + 1 }, () => exec.createInferRequest());
    this.inputs = this.ports(requests[0], Object.keys(exec.inputs), "input");
    this.outputs = this.ports(requests[0], Object.keys(exec.outputs), "output");
    this.free = requests.map((req) => this.lane(req));
    // Enough for every request's batch and as many waiting: beyond that, buffers of a past overload go to the GC.
    this.spareLimit = 2 * (this.slots + 1) * this.maxBatch;
  }

  private lane(req: InferRequest): Lane {
    if (this.exec.dynamicBatch) req.setBatch(this.exec.batchLimit);
    return {
      req,
      inputs: this.inputs.map((p) => req.getBlob(p.name).data),
      outputs: this.outputs.map((p) => req.getBlob(p.name).data),
    };
  }

  /**
   * Every input and output must carry the batch on axis 0: a dynamic request at batch 1 shows
   * it as 1; a static network's ports all start with its batch.
   */
  private ports(probe: InferRequest, names: string[], kind: string): Port[] {
    const rows = this.exec.dynamicBatch ? 1 : this.exec.batchLimit;
    if (this.exec.dynamicBatch) probe.setBatch(1);
    return names.map((name) => {
      const shape = probe.getBlob(name).shape;
      if (
        shape.length === 0 ||
        shape[0] !== rows ||
        (this.exec.dynamicBatch && this.exec.batchLimit > 1 && !this.follows(probe, name))
      )
        throw new ConfigError(
          `createBatcher: ${kind} '${name}' [${shape}] has no batch axis 0; the batcher stacks samples along axis 0`,
        );
      const sample = shape.slice(1);
      return { name, sample, size: sample.reduce((a, b) => a * b, 1), shape: [1, ...sample], layout: layoutFor(shape.length) };
    });
  }

  /** Whether the port's axis 0 follows setBatch (the probe is at batch 1; a port fixed at 1 would not change). */
  private follows(probe: InferRequest, name: string): boolean {
    probe.setBatch(this.exec.batchLimit);
    const followed = probe.getBlob(name).shape[0] === this.exec.batchLimit;
    probe.setBatch(1);
    return followed;
  }

  /** Submits one sample; resolves with its outputs, each shaped [1, …]. */
  infer(sample: SampleInputs, opts: BatcherInferOptions = {}): Promise<Record<string, Blob>> {
    if (this.closing) return Promise.reject(new BatcherClosedError());
    const priority = opts?.priority ?? "normal";
    let values: ArrayLike<number>[];
    try {
      if (priority !== "high" && priority !== "normal")
        throw new InputError(`batcher.infer: priority must be "high" or "normal", got ${JSON.stringify(priority)}`);
      values = sampleValues(this.inputs, sample);
    } catch (e) {
      this.counts.invalid++;
      return Promise.reject(e);
    }
    if (this.queued() >= this.maxQueue) {
      this.counts.rejected++;
      return Promise.reject(new QueueFullError(this.maxQueue));
    }
    this.counts.submitted++;
    // Copied now: a caller may reuse its buffer (a video frame) as soon as infer() returns.
    const inputs = this.spare.pop() ?? this.inputs.map((p) => new Float32Array(p.size));
    for (let k = 0; k < inputs.length; k++) inputs[k].set(values[k]);
    return new Promise((resolve, reject) => {
      const enqueuedUs = this.clock.now();
      this.arrivals.note(enqueuedUs);
      this.queues[priority].push({ inputs, enqueuedUs, resolve, reject });
      this.pump();
    });
  }

  private queued(): number {
    return this.queues.high.length + this.queues.normal.length;
  }

  private oldestUs(): number {
    return Math.min(this.queues.high[0]?.enqueuedUs ?? Infinity, this.queues.normal[0]?.enqueuedUs ?? Infinity);
  }

  /**
   * Sends every batch that is due, rejects expired samples, then arms the timer for the next
   * event. While fewer than `requests` batches run, a batch is due when full or when its oldest
   * sample has waited maxDelayUs; while they all run, only a full one goes (on the spare request).
   */
  private pump(): void {
    const now = this.clock.now();
    this.expire(now);
    while (this.free.length > 0 && this.queued() > 0 && this.due(now)) this.send(this.free.pop()!, now);
    this.arm(now);
    if (this.closing && this.queued() === 0 && this.counts.inFlight === 0) this.onDrained?.();
  }

  private due(now: number): boolean {
    if (this.closing || this.queued() >= this.maxBatch) return true;
    return this.running < this.slots && now >= this.dueAt();
  }

  /** When the oldest waiting sample's batch is due short of full (dispatch.ts); the sum timers are set for. */
  private dueAt(): number {
    return dueAt(this.dispatch, this.oldestUs() + this.maxDelayUs, this.running > 0, this.arrivals);
  }

  /**
   * Queues are in arrival order and share one timeout, so the expired samples are a prefix of each.
   * Deadlines are compared as `now >= enqueued + x`, the sums arm() sets timers for (no rounding gap).
   */
  private expire(now: number): void {
    if (this.timeoutUs === Infinity) return;
    for (const queue of Object.values(this.queues)) {
      let k = 0;
      while (k < queue.length && now >= queue[k].enqueuedUs + this.timeoutUs) k++;
      for (const p of queue.splice(0, k)) {
        this.counts.timedOut++;
        this.recycle(p.inputs);
        p.reject(new RequestTimeoutError(now - p.enqueuedUs, this.timeoutUs));
      }
    }
  }

  /**
   * One timer for the next deadline, set again only when it changes or a batch starts or ends: it
   * polls only while no batch computes, as polling would take a core from a batch that the next
   * one waits behind anyway (the CPU plugin runs one at a time); its end sends what is then due.
   */
  private arm(now: number): void {
    let next = Infinity;
    if (this.queued() > 0) {
      const oldest = this.oldestUs();
      // The delay only matters when a batch may start; while every request computes, a completion sends.
      const send = this.free.length > 0 && this.running < this.slots ? this.dueAt() : Infinity;
      next = Math.min(send, oldest + this.timeoutUs);
    }
    const poll = this.running === 0;
    if (next === this.timerDue && poll === this.timerPolls) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDue = next;
    this.timerPolls = poll;
    if (next === Infinity) return;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerDue = NaN;
        this.pump();
      },
      Math.max(0, next - now),
      { poll },
    );
  }

  /** A sample's buffers, back to the pool once its values are in a request (or it will never run). */
  private recycle(inputs: Float32Array[]): void {
    if (this.spare.length < this.spareLimit) this.spare.push(inputs);
  }

  private take(n: number): Pending[] {
    const high = this.queues.high.splice(0, n);
    return high.length === 0 ? this.queues.normal.splice(0, n) : [...high, ...this.queues.normal.splice(0, n - high.length)];
  }

  private send(lane: Lane, now: number): void {
    const batch = this.take(this.maxBatch);
    const n = batch.length;
    const rows = this.exec.dynamicBatch ? n : this.exec.batchLimit;
    for (const p of batch) this.waits[this.sent++ % WAIT_WINDOW] = now - p.enqueuedUs;
    this.counts.batches++;
    this.histogram[n] = (this.histogram[n] ?? 0) + 1;
    this.counts.paddedSamples += rows - n;
    this.counts.computedSamples += n;
    this.counts.inFlight += n;
    this.running++;
    let run: Promise<void>;
    try {
      if (this.exec.dynamicBatch) lane.req.setBatch(n);
      for (let k = 0; k < this.inputs.length; k++) {
        const data = lane.inputs[k];
        const size = this.inputs[k].size;
        for (let i = 0; i < n; i++) data.set(batch[i].inputs[k], i * size);
        // Zeros rather than an earlier batch's rows: padding stays the same whatever ran before.
        if (rows > n) data.fill(0, n * size, rows * size);
      }
      for (const p of batch) this.recycle(p.inputs);
      run = lane.req.infer();
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      () => this.finish(lane, batch, undefined),
      (error: unknown) => this.finish(lane, batch, { error }),
    );
  }

  /**
   * Answers every caller of a finished batch: its own rows of the outputs, or the batch's error.
   * Settling a promise only queues its caller's continuation, so the request takes the next
   * batch before any caller's code runs.
   */
  private finish(lane: Lane, batch: Pending[], failure: { error: unknown } | undefined): void {
    this.counts.inFlight -= batch.length;
    this.running--;
    if (failure) {
      this.counts.failed += batch.length;
      for (const p of batch) p.reject(failure.error);
    } else {
      this.counts.completed += batch.length;
      for (let i = 0; i < batch.length; i++) batch[i].resolve(this.rows(lane, i));
    }
    this.free.push(lane);
    this.pump();
  }

  /** Row i of every output, copied into a Blob shaped [1, …]. */
  private rows(lane: Lane, i: number): Record<string, Blob> {
    return record(
      this.outputs.map((port, k) => {
        const data = lane.outputs[k].slice(i * port.size, (i + 1) * port.size);
        return [port.name, new Blob(port.shape.slice(), data, port.layout)] as const;
      }),
    );
  }

  /**
   * Runs every batch size up to maxBatch `runs` times on each idle request, on zeros (Triton's
   * model_warmup): the CPU plugin picks its threading per request and per n over its first runs
   * at that n, 2-5x slower than later ones on landmarks. Samples submitted meanwhile wait.
   */
  async warmUp(runs = 18): Promise<void> {
    const lanes = this.free.splice(0);
    try {
      for (const lane of lanes) {
        for (const data of lane.inputs) data.fill(0);
        for (let n = this.exec.dynamicBatch ? 1 : this.maxBatch; n <= this.maxBatch; n++) {
          if (this.exec.dynamicBatch) lane.req.setBatch(n);
          for (let i = 0; i < runs; i++) await lane.req.infer();
        }
      }
    } finally {
      this.free.push(...lanes);
      this.pump();
    }
  }

  /** What the batcher has done so far. */
  stats(): BatcherStats {
    const sorted = Array.from(this.waits.subarray(0, Math.min(this.sent, WAIT_WINDOW))).sort((a, b) => a - b);
    return {
      ...this.counts,
      histogram: { ...this.histogram },
      queueWaitUs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
      queued: this.queued(),
    };
  }

  /** Sends every queued sample without waiting for maxDelayUs and resolves once all are answered; new samples are refused. */
  close(): Promise<void> {
    this.closing = true;
    this.drained ??= new Promise<void>((resolve) => {
      this.onDrained = resolve;
    });
    this.pump();
    return this.drained;
  }
}

declare module "../runtime/executable" {
  interface ExecutableNetwork {
    /**
     * A batcher that coalesces single-sample calls into batches on this network (kernel/batching):
     * sent at the largest batch or once the oldest sample waited maxDelayUs (earlier under the
     * work-conserving dispatch when no batch computes and few more samples are expected).
     */
    createBatcher(options?: BatcherOptions): Batcher;
  }
}

// The batcher brings this method to ExecutableNetwork itself, so that the runtime never imports it
// (as the bench does for IECore.benchmark). Non-enumerable and writable like a class method.
Object.defineProperty(ExecutableNetwork.prototype, "createBatcher", {
  value: function (this: ExecutableNetwork, options: BatcherOptions = {}) {
    return new Batcher(this, options);
  },
  writable: true,
  configurable: true,
});
