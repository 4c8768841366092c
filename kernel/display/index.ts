/**
 * Rich display for notebooks: `display(x)` shows a topology, latency or profile report, error, blob
 * or performance counters as one MIME bundle. Runtime classes do not import this floor; the
 * package exports `display` from its index instead.
 */
import { randomBytes } from "crypto";
import { InputError } from "../errors";
import { Blob } from "../runtime/blob";
import type { PerfCount } from "../runtime/request";
import { BatchFixChange, LatencyReport, ProfileReport, TopologyReport } from "../schema";
import type { FrontierReport } from "../schema";
import { frontierBundle } from "./frontier";
import { MimeBundle } from "./bundle";
import { latencyBundle } from "./latency";
import { profileBundle } from "./profile";
import { blobBundle, errorBundle, perfBundle, progressBundle } from "./objects";
import { topologyBundle } from "./topology";
import { fixesBundle } from "./fixes";
import { DisplayWriter, selectWriter } from "./writer";
import { Table, tableBundle } from "./table";

export { LATENCY_MIME, TOPOLOGY_MIME } from "./bundle";
export { BATCH_FIX_MIME } from "./bundle";
export { PROFILE_MIME } from "./bundle";
export { FRONTIER_MIME } from "./bundle";
export type { MimeBundle } from "./bundle";
export { table, Table } from "./table";
export type { TableCell, TableColumn, TableOptions } from "./table";

/**
 * What `display` accepts; performance counters are `InferRequest.getPerformanceCounts()`. An array
 * of topology reports is one network in both modes; an array of latency reports is one model's
 * sweeps on several devices: each array is shown as one output.
 */
export type Displayable =
  | TopologyReport
  | LatencyReport
  | TopologyReport[]
  | LatencyReport[]
  | BatchFixChange[]
  | ProfileReport
  | FrontierReport
  | Error
  | Blob
  | Table
  | Record<string, PerfCount>;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

function isTopologyReport(x: Record<string, unknown>): x is Record<string, unknown> & TopologyReport {
  return typeof x.model === "string" && Array.isArray(x.layers) && isObject(x.summary);
}

function isLatencyReport(x: Record<string, unknown>): x is Record<string, unknown> & LatencyReport {
  return typeof x.model === "string" && typeof x.limit === "number" && Array.isArray(x.points);
}

function isBatchFix(x: unknown): x is BatchFixChange {
  return isObject(x) && typeof x.layer === "string" && typeof x.kind === "string" && typeof x.applied === "boolean";
}

function isProfileReport(x: Record<string, unknown>): x is Record<string, unknown> & ProfileReport {
  return typeof x.model === "string" && Array.isArray(x.batches) && Array.isArray(x.layers) && Array.isArray(x.totals);
}

function isFrontierReport(x: Record<string, unknown>): x is Record<string, unknown> & FrontierReport {
  return typeof x.model === "string" && Array.isArray(x.series) && typeof x.durationMs === "number";
}

function isPerfCounts(x: Record<string, unknown>): x is Record<string, PerfCount> {
  const values = Object.values(x);
  return (
    values.length > 0 && values.every((v) => isObject(v) && typeof v.realTimeUs === "number" && typeof v.execType === "string")
  );
}

/** The MIME bundle for a value (what `display` sends). */
export function toMimeBundle(value: Displayable): MimeBundle {
  if (value instanceof Error) return errorBundle(value);
  if (value instanceof Blob) return blobBundle(value);
  if (value instanceof Table) return tableBundle(value);
  if (Array.isArray(value)) {
    const all = value as unknown[];
    // An empty list is fixForDynamicBatch() finding nothing to change: no other display takes one.
    if (all.every(isBatchFix)) return fixesBundle(all as BatchFixChange[]);
    if (all.length && all.length <= 2 && all.every((v) => isObject(v) && isTopologyReport(v)))
      return topologyBundle(all[0] as TopologyReport, all[1] as TopologyReport | undefined);
    if (all.length && all.every((v) => isObject(v) && isLatencyReport(v)))
      return latencyBundle(all[0] as LatencyReport, ...(all.slice(1) as LatencyReport[]));
  } else if (isObject(value)) {
    if (isTopologyReport(value)) return topologyBundle(value);
    if (isLatencyReport(value)) return latencyBundle(value);
    if (isProfileReport(value)) return profileBundle(value);
    if (isFrontierReport(value)) return frontierBundle(value);
    if (isPerfCounts(value)) return perfBundle(value);
  }
  throw new InputError(
    "display() takes a TopologyReport, LatencyReport, an array of either, fixForDynamicBatch()'s changes, a ProfileReport, a FrontierReport, a table(), an Error, a Blob or the result of getPerformanceCounts()",
  );
}

/** Shows `value` in the notebook (tslab), or prints its text form in a plain Node program. */
export function display(value: Displayable, writer: DisplayWriter = selectWriter()): void {
  writer(toMimeBundle(value));
}

/**
 * Most often a live display shows a new progress line: a sweep may report thousands of times a
 * second, and each line is a message to the frontend (that many killed a tslab cell with an empty
 * error).
 */
export const PROGRESS_INTERVAL_MS = 100;

/** The time a live display throttles by; a test passes a fake one. */
export interface LiveDisplayClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds; the returned function cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

const REAL_CLOCK: LiveDisplayClock = {
  now: () => performance.now(),
  schedule: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * One output that later values replace in place, e.g. a latency report growing during a sweep.
 * Progress lines are throttled to one per PROGRESS_INTERVAL_MS: one in between is held back, and the
 * latest held back is shown when the interval ends. A report (`update`), a progress line at
 * fraction 1 and `flush()` show at once, so the final state is never held back.
 */
export class LiveDisplay {
  /** The Jupyter display_id of this output. */
  readonly id = randomBytes(8).toString("hex");
  private shown = false;
  private lastWrite = -Infinity;
  private pending: MimeBundle | null = null;
  private cancelPending: (() => void) | null = null;

  constructor(
    private readonly writer?: DisplayWriter,
    private readonly clock: LiveDisplayClock = REAL_CLOCK,
  ) {}

  /** Shows `value` at once: the first call creates the output, later calls replace it. */
  update(value: Displayable): void {
    const bundle = toMimeBundle(value);
    this.dropPending();
    this.write(bundle);
  }

  /** Shows a progress line (and bar, when `fraction` in [0, 1] is given) in this output, e.g. during a sweep. */
  progress(label: string, fraction?: number): void {
    const bundle = progressBundle(label, fraction);
    const wait = this.lastWrite + PROGRESS_INTERVAL_MS - this.clock.now();
    if (wait <= 0 || (fraction !== undefined && fraction >= 1)) {
      this.dropPending();
      this.write(bundle);
      return;
    }
    this.pending = bundle;
    this.cancelPending ??= this.clock.schedule(() => this.flushLater(), wait);
  }

  /** Shows the progress line held back by the throttle now, if there is one. */
  flush(): void {
    const bundle = this.pending;
    this.dropPending();
    if (bundle) this.write(bundle);
  }

  private flushLater(): void {
    this.cancelPending = null;
    try {
      this.flush();
    } catch {
      // A timer has no caller to throw to: the cell that made this output has ended (tslab then has
      // no writer), and the output keeps the line shown before.
    }
  }

  private dropPending(): void {
    this.cancelPending?.();
    this.cancelPending = null;
    this.pending = null;
  }

  private write(bundle: MimeBundle): void {
    (this.writer ?? selectWriter())(bundle, this.id, this.shown);
    this.shown = true;
    this.lastWrite = this.clock.now();
  }
}

/** A display to update in place (update_display_data) as work progresses. */
export function newDisplay(writer?: DisplayWriter, clock?: LiveDisplayClock): LiveDisplay {
  return new LiveDisplay(writer, clock);
}
