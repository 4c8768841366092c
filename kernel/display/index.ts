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

/** One output that later values replace in place, e.g. a latency report growing during a sweep. */
export class LiveDisplay {
  /** The Jupyter display_id of this output. */
  readonly id = randomBytes(8).toString("hex");
  private shown = false;

  constructor(private readonly writer?: DisplayWriter) {}

  /** Shows `value`: the first call creates the output, later calls replace it. */
  update(value: Displayable): void {
    this.write(toMimeBundle(value));
  }

  /** Shows a progress line (and bar, when `fraction` in [0, 1] is given) in this output, e.g. during a sweep. */
  progress(label: string, fraction?: number): void {
    this.write(progressBundle(label, fraction));
  }

  private write(bundle: MimeBundle): void {
    (this.writer ?? selectWriter())(bundle, this.id, this.shown);
    this.shown = true;
  }
}

/** A display to update in place (update_display_data) as work progresses. */
export function newDisplay(writer?: DisplayWriter): LiveDisplay {
  return new LiveDisplay(writer);
}
