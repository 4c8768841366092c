/**
 * BatchFixChange[] (what fixForDynamicBatch() changed) → MIME bundle: per layer, before → after
 * and the proof (the model's own batch at which every shape is unchanged, the analysis' per-sample
 * proof, the numeric check per batch), or why the layer was left alone.
 */
import { BatchFixChange, BatchFixSplit } from "../schema";
import { BATCH_FIX_MIME, MimeBundle } from "./bundle";
import { escapeHtml, htmlTable, MAX_TABLE_ROWS, moreText, shapeText, textTable } from "./format";
import { displayName } from "./names";

const GREEN = "#2e7d32";
const RED = "#c62828";

function numericText(c: BatchFixChange): string {
  return (c.proof?.numeric ?? []).map((x) => `n=${x.n}: ${x.maxAbsError.toExponential(1)}`).join(", ");
}

/** The proof of an applied change, or why it was refused, as plain text lines. */
function why(c: BatchFixChange): string[] {
  if (!c.applied || !c.proof) return [`not applied: ${c.reason}`, `blocked: ${c.blocked}`];
  return [
    `same shapes as the original at its batch ${c.proof.sameAtBatch}`,
    `analysis: ${c.proof.analysis}`,
    `max |batch n − n batch-1 runs|: ${numericText(c)}`,
  ];
}

/** Tail layers a split's details name before "… N more layers": a detector's tail can be long. */
const MAX_TAIL_NAMES = 8;

const JOIN_TEXT: Record<BatchFixSplit["outputs"][number]["join"], string> = {
  concat: "samples concatenated along axis 0",
  detections: "each sample's detection rows appended, image_id set to the sample",
};

/** Where a split cut the network, as plain text lines: cut tensors, tail layers (capped), each output's join. */
function splitLines(s: BatchFixSplit): string[] {
  const shown = s.tail.slice(0, MAX_TAIL_NAMES).map((n) => displayName(n));
  const more = s.tail.length > shown.length ? [moreText(s.tail.length - shown.length, "layers")] : [];
  return [
    `cut (body → tail, per sample): ${s.cuts.map((c) => `${displayName(c.tensor)} ${shapeText(c.shape)}`).join(", ")}`,
    `tail (${s.tail.length} layer(s), once per sample at batch 1): ${[...shown, ...more].join(", ")}`,
    ...s.outputs.map(
      (o) =>
        `output ${displayName(o.output)}: ${o.from === "body" ? "from the body at batch n" : `from the tail, ${JOIN_TEXT[o.join]}`}`,
    ),
  ];
}

function summary(changes: BatchFixChange[]): string {
  const applied = changes.filter((c) => c.applied).length;
  if (!changes.length) return "fixForDynamicBatch: nothing to change";
  return `fixForDynamicBatch: ${applied} of ${changes.length} layer(s) rewritten and proven, ${changes.length - applied} left alone`;
}

/** A change in one line: before → after (a split: its body and tail). */
export function changeText(c: BatchFixChange): string {
  if (c.kind === "none") return "(no rewrite)";
  // The split's own before/after sentences are long; its details name the cut, tail and joins.
  if (c.kind === "split") return `split: body at batch n + per-sample tail of ${c.split?.tail.length ?? "?"} layer(s)`;
  return `${c.before} → ${c.after}`;
}

/** The detail lines of one change: for a split, where it cut; then the proof or the reason. */
export function changeDetails(c: BatchFixChange): string[] {
  return [...(c.split ? splitLines(c.split) : []), ...why(c)];
}

/** The changes as an HTML table (capped at MAX_TABLE_ROWS): layer, type, kind, before → after, applied, and the cut, proof or reason. */
export function fixesTableHtml(changes: BatchFixChange[]): string {
  const rows = changes.map((c) => [
    escapeHtml(displayName(c.layer)),
    escapeHtml(c.type),
    escapeHtml(c.kind),
    escapeHtml(changeText(c)),
    `<b style="color:${c.applied ? GREEN : RED}">${c.applied ? "applied" : "refused"}</b>`,
    changeDetails(c).map(escapeHtml).join("<br>"),
  ]);
  return htmlTable(["layer", "type", "kind", "before → after", "", "cut / proof / reason"], rows);
}

/** The changes as a text table (capped), then the details of each change shown. */
export function fixesTableText(changes: BatchFixChange[]): string {
  const rows = changes.map((c) => [displayName(c.layer), c.type, c.kind, changeText(c), c.applied ? "applied" : "refused"]);
  const perChange = changes.slice(0, MAX_TABLE_ROWS).map(
    (c) =>
      `${displayName(c.layer)}:\n${changeDetails(c)
        .map((l) => `    ${l}`)
        .join("\n")}`,
  );
  return [textTable(["layer", "type", "kind", "before → after", ""], rows), ...perChange].join("\n");
}

export function fixesHtml(changes: BatchFixChange[]): string {
  return (
    `<div style="font-family:sans-serif;font-size:13px;line-height:1.4"><div><b>${escapeHtml(summary(changes))}</b></div>` +
    (changes.length ? fixesTableHtml(changes) : "") +
    `</div>`
  );
}

export function fixesText(changes: BatchFixChange[]): string {
  if (!changes.length) return summary(changes);
  return `${summary(changes)}\n${fixesTableText(changes)}`;
}

/** The bundle for fixForDynamicBatch()'s changes; the JSON part is the list itself. */
export function fixesBundle(changes: BatchFixChange[]): MimeBundle {
  return {
    [BATCH_FIX_MIME]: JSON.parse(JSON.stringify(changes)),
    "text/html": fixesHtml(changes),
    "text/plain": fixesText(changes),
  };
}
