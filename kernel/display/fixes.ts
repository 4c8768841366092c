/**
 * BatchFixChange[] (what fixForDynamicBatch() changed) → MIME bundle: per layer, before → after
 * and the proof (the model's own batch at which every shape is unchanged, the analysis' per-sample
 * proof, the numeric check per batch), or why the layer was left alone.
 */
import { BatchFixChange } from "../schema";
import { BATCH_FIX_MIME, MimeBundle } from "./bundle";
import { escapeHtml, htmlTable, MAX_TABLE_ROWS, textTable } from "./format";
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

function summary(changes: BatchFixChange[]): string {
  const applied = changes.filter((c) => c.applied).length;
  if (!changes.length) return "fixForDynamicBatch: nothing to change";
  return `fixForDynamicBatch: ${applied} of ${changes.length} layer(s) rewritten and proven, ${changes.length - applied} left alone`;
}

function change(c: BatchFixChange): string {
  return c.kind === "none" ? "(no rewrite)" : `${c.before} → ${c.after}`;
}

export function fixesHtml(changes: BatchFixChange[]): string {
  const rows = changes.map((c) => [
    escapeHtml(displayName(c.layer)),
    escapeHtml(c.type),
    escapeHtml(change(c)),
    `<b style="color:${c.applied ? GREEN : RED}">${c.applied ? "applied" : "refused"}</b>`,
    why(c).map(escapeHtml).join("<br>"),
  ]);
  return (
    `<div style="font-family:sans-serif;font-size:13px;line-height:1.4"><div><b>${escapeHtml(summary(changes))}</b></div>` +
    (rows.length ? htmlTable(["layer", "type", "before → after", "", "proof / reason"], rows) : "") +
    `</div>`
  );
}

export function fixesText(changes: BatchFixChange[]): string {
  if (!changes.length) return summary(changes);
  const rows = changes.map((c) => [displayName(c.layer), c.type, change(c), c.applied ? "applied" : "refused"]);
  const details = changes.slice(0, MAX_TABLE_ROWS).map(
    (c) =>
      `${displayName(c.layer)}:\n${why(c)
        .map((l) => `    ${l}`)
        .join("\n")}`,
  );
  return [summary(changes), textTable(["layer", "type", "before → after", ""], rows), ...details].join("\n");
}

/** The bundle for fixForDynamicBatch()'s changes; the JSON part is the list itself. */
export function fixesBundle(changes: BatchFixChange[]): MimeBundle {
  return {
    [BATCH_FIX_MIME]: JSON.parse(JSON.stringify(changes)),
    "text/html": fixesHtml(changes),
    "text/plain": fixesText(changes),
  };
}
