/**
 * The text around the charts: title, what each sweep ran with, skipped modes, messages.
 * Every string from the report goes in through textContent.
 */
import { MODE_LABELS, SkippedMode, Sweep } from "./sweeps";
import { formatNumber } from "./hover";

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** "2026-11-25T14:02:11.123Z" → "2026-11-25 14:02 UTC"; anything else as written. */
function formatDate(date: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d).*Z$/.exec(date);
  return m ? `${m[1]} ${m[2]} UTC` : date;
}

/** One line per sweep: the device and what it ran with. */
function sweepLine(s: Sweep): string {
  const r = s.report;
  const parts = [`limit ${r.limit}`];
  if (r.threads !== undefined) parts.push(r.threads === 1 ? "1 thread" : `${r.threads} threads`);
  if (r.gflopPerSample !== undefined) parts.push(`${formatNumber(r.gflopPerSample)} GFLOP per sample`);
  if (r.peakGflops !== undefined) parts.push(`peak ${formatNumber(r.peakGflops)} GFLOP/s`);
  if (r.date !== undefined) parts.push(formatDate(String(r.date)));
  return `${s.label}: ${parts.join(" · ")}`;
}

export function header(model: string, sweeps: Sweep[]): HTMLElement {
  const box = element("div", "dynbatch-latency-header");
  const title = element("div", "dynbatch-latency-title");
  title.append(element("span", "dynbatch-latency-model", model), " — latency and throughput against batch");
  box.append(title);
  for (const s of sweeps) box.append(element("div", "dynbatch-latency-info", sweepLine(s)));
  return box;
}

export function skippedList(skipped: SkippedMode[]): HTMLElement {
  const box = element("div", "dynbatch-latency-skipped");
  box.append(element("div", "dynbatch-latency-skipped-title", "Not measured"));
  const list = element("ul", "");
  for (const s of skipped) {
    const item = element("li", "");
    item.append(element("b", "", `${MODE_LABELS[s.mode]} on ${s.device}`), `: ${s.reasons.join("; ")}`);
    list.append(item);
  }
  box.append(list);
  return box;
}

/** A notice in place of the charts: `kind` "empty" for a report without points, "error" for data that is no report. */
export function message(kind: "empty" | "error", text: string): HTMLElement {
  return element("div", `dynbatch-latency-message dynbatch-latency-${kind}`, text);
}
