/**
 * Bundles for runtime objects that have no JSON schema of their own: errors (a DynamicBatchError's
 * offending layers as a table), blobs (shape, statistics, a preview), per-layer performance
 * counters (a table sorted by time) and progress lines. These carry text/html and text/plain only.
 */
import { DynamicBatchError, DynbatchError } from "../errors";
import { Blob } from "../runtime/blob";
import type { PerfCount } from "../runtime/request";
import { MimeBundle } from "./bundle";
import { escapeHtml, htmlTable, num, shapeText, textTable } from "./format";
import { displayName } from "./names";

const BOX = "font-family:sans-serif;font-size:13px;line-height:1.4";

function errorTitle(e: Error): string {
  const code = e instanceof DynbatchError ? ` [${e.code}]` : "";
  return `${e.name}${code}`;
}

export function errorBundle(e: Error): MimeBundle {
  if (!(e instanceof DynamicBatchError)) {
    return {
      "text/html": `<div style="${BOX}"><b style="color:#c62828">${escapeHtml(errorTitle(e))}</b>: ${escapeHtml(e.message)}</div>`,
      "text/plain": `${errorTitle(e)}: ${e.message}`,
    };
  }
  const headers = ["layer", "type → legacy type", "why it blocks a dynamic batch"];
  const rows = e.layers.map((l) => [displayName(l.name), `${l.type} → ${l.legacyType}`, l.reason]);
  return {
    "text/html":
      `<div style="${BOX}"><div><b style="color:#c62828">${escapeHtml(errorTitle(e))}</b>: model <b>${escapeHtml(displayName(e.model))}</b> ` +
      `cannot be compiled for a dynamic batch (${escapeHtml(e.mode)} analysis); ${e.layers.length} offending layer(s)</div>` +
      htmlTable(
        headers,
        rows.map((r) => r.map(escapeHtml)),
      ) +
      `</div>`,
    "text/plain": `${errorTitle(e)}: model '${displayName(e.model)}' (${e.mode} analysis), ${e.layers.length} offending layer(s)\n${textTable(headers, rows)}`,
  };
}

/** Summary statistics of a blob's values; NaNs are counted and left out of the others. */
export function blobStats(data: Float32Array): { min: number; max: number; mean: number; std: number; nan: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  let nan = 0;
  for (const v of data) {
    if (Number.isNaN(v)) {
      nan++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
  }
  const n = data.length - nan;
  const mean = n ? sum / n : NaN;
  return { min: n ? min : NaN, max: n ? max : NaN, mean, std: n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : NaN, nan };
}

const PREVIEW_ROWS = 4;
const PREVIEW_VALUES = 8;

/** The first values of the first samples (axis 0), as rows of formatted numbers. */
function preview(b: Blob): string[][] {
  const samples = b.shape.length ? b.shape[0] : 1;
  const per = samples ? b.size / samples : 0;
  const rows: string[][] = [];
  for (let s = 0; s < Math.min(samples, PREVIEW_ROWS); s++) {
    const values = Array.from(b.data.subarray(s * per, s * per + Math.min(per, PREVIEW_VALUES)), num);
    rows.push([String(s), values.join("  ") + (per > PREVIEW_VALUES ? "  …" : "")]);
  }
  return rows;
}

export function blobBundle(b: Blob): MimeBundle {
  const st = blobStats(b.data);
  const head = `Blob ${shapeText(b.shape)} ${b.precision} ${b.layout}, ${b.size} values`;
  const stats = `min ${num(st.min)} · max ${num(st.max)} · mean ${num(st.mean)} · std ${num(st.std)}${st.nan ? ` · ${st.nan} NaN` : ""}`;
  const rows = preview(b);
  const more = b.shape.length && b.shape[0] > PREVIEW_ROWS ? `\n… ${b.shape[0] - PREVIEW_ROWS} more sample(s)` : "";
  return {
    "text/html":
      `<div style="${BOX}"><div><b>${escapeHtml(head)}</b></div><div style="color:#555">${escapeHtml(stats)}</div>` +
      htmlTable(
        ["sample", "first values"],
        rows.map((r) => r.map(escapeHtml)),
        [0],
      ) +
      (more ? `<div style="color:#555">${escapeHtml(more.trim())}</div>` : "") +
      `</div>`,
    "text/plain": `${head}\n${stats}\n${textTable(["sample", "first values"], rows)}${more}`,
  };
}

/** Layers without a time of their own: per absorbing layer those fused into it, then any other. */
function notRunLines(all: [string, PerfCount][]): string[] {
  const fused = new Map<string, string[]>();
  const other: string[] = [];
  for (const [name, c] of all) {
    if (c.status === "EXECUTED") continue;
    if (c.fusedInto) (fused.get(c.fusedInto) ?? fused.set(c.fusedInto, []).get(c.fusedInto)!).push(displayName(name));
    else other.push(displayName(name));
  }
  const lines = [...fused].map(([into, names]) => `fused into ${displayName(into)}: ${names.join(", ")}`);
  if (other.length) lines.push(`not run: ${other.join(", ")}`);
  return lines;
}

/** Executed layers as a table sorted by time; below it, the layers fused into them or not run. */
export function perfBundle(counts: Record<string, PerfCount>): MimeBundle {
  const all = Object.entries(counts);
  const executed = all.filter(([, c]) => c.status === "EXECUTED").sort((a, b) => b[1].realTimeUs - a[1].realTimeUs);
  const rest = notRunLines(all);
  const total = executed.reduce((s, [, c]) => s + c.realTimeUs, 0);
  const headers = ["layer", "layer type", "exec type", "real time µs", "share"];
  const rows = executed.map(([name, c]) => [
    displayName(name),
    c.layerType,
    c.execType,
    num(c.realTimeUs),
    total > 0 ? `${((100 * c.realTimeUs) / total).toFixed(1)}%` : "",
  ]);
  const head = `Performance counters: ${executed.length} layer(s) executed, total ${num(total)} µs`;
  return {
    "text/html":
      `<div style="${BOX}"><div><b>${escapeHtml(head)}</b></div>` +
      htmlTable(
        headers,
        rows.map((r) => r.map(escapeHtml)),
        [3, 4],
      ) +
      rest.map((l) => `<div style="color:#555">${escapeHtml(l)}</div>`).join("") +
      `</div>`,
    "text/plain": [head, textTable(headers, rows), ...rest].join("\n"),
  };
}

/** A progress line with an optional bar; `fraction` is clamped to [0, 1]. */
export function progressBundle(label: string, fraction?: number): MimeBundle {
  if (fraction === undefined || !Number.isFinite(fraction)) {
    return { "text/html": `<div style="${BOX}">${escapeHtml(label)}</div>`, "text/plain": label };
  }
  const f = Math.min(1, Math.max(0, fraction));
  const pct = Math.round(f * 100);
  const cells = 20;
  const filled = Math.round(f * cells);
  return {
    "text/html":
      `<div style="${BOX}"><div style="display:inline-block;width:200px;height:10px;border:1px solid #888;vertical-align:middle">` +
      `<div style="width:${pct}%;height:100%;background:#1f77b4"></div></div> ${pct}% · ${escapeHtml(label)}</div>`,
    "text/plain": `[${"#".repeat(filled)}${"-".repeat(cells - filled)}] ${pct}% ${label}`,
  };
}
