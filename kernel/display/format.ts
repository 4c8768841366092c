/**
 * Small formatting helpers shared by the bundles: HTML escaping, HTML and text tables, numbers.
 * Every string that can come from a model or a user passes through `escapeHtml` before it
 * reaches markup, so a layer name is always data, never markup.
 */

/** Escapes text for HTML and SVG element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A number with about three significant digits, without exponent noise for ordinary values. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01) return x.toFixed(a >= 1 ? 2 : 3);
  return x.toExponential(2);
}

/** "[N,3,48,48]"; a scalar is "[]". */
export function shapeText(shape: readonly (number | string)[]): string {
  return `[${shape.join(",")}]`;
}

/**
 * Most rows a static table shows; the rest is one "… N more rows" line. The fallbacks are stored in
 * the notebook file and read on a code host, where a 200-row table is noise; the JSON part of the
 * bundle keeps every row.
 */
export const MAX_TABLE_ROWS = 25;

/** "… 3 more rows" (or with the caller's noun). */
export function moreText(hidden: number, noun = "rows"): string {
  return `… ${hidden.toLocaleString("en-US")} more ${noun}`;
}

/** Cell style of a text column and of a numeric one. */
export const TEXT_CELL = `style="text-align:left"`;
export const NUMBER_CELL = `style="text-align:right"`;

/**
 * An HTML table; `rows` hold already-escaped cell markup. Text columns are left-aligned and
 * `numericColumns` right-aligned by a style on each cell: JupyterLab's stylesheet right-aligns
 * every output table cell, which overrides an `align` attribute but not a style (its sanitizer
 * keeps text-align). Legacy table attributes otherwise: they survive HTML sanitizers and keep large
 * tables small. Past `maxRows` rows one last row says how many were left out.
 */
export function htmlTable(headers: string[], rows: string[][], numericColumns: number[] = [], maxRows = MAX_TABLE_ROWS): string {
  const align = (i: number) => (numericColumns.includes(i) ? NUMBER_CELL : TEXT_CELL);
  const head = headers.map((h, i) => `<th ${align(i)}>${escapeHtml(h)}</th>`).join("");
  const shown = rows.slice(0, maxRows);
  const more =
    rows.length > shown.length
      ? `<tr><td colspan="${headers.length}" ${TEXT_CELL}><i>${escapeHtml(moreText(rows.length - shown.length))}</i></td></tr>`
      : "";
  const body = shown.map((r) => `<tr valign="top">${r.map((c, i) => `<td ${align(i)}>${c}</td>`).join("")}</tr>`).join("");
  return (
    `<table border="1" cellpadding="3" style="border-collapse:collapse;border-color:#ddd;font-size:12px;margin:4px 0">` +
    `<thead style="background:#f4f4f4"><tr>${head}</tr></thead><tbody>${body}${more}</tbody></table>`
  );
}

/** A plain-text table with columns padded to their widest cell; past `maxRows` rows, a "… N more rows" line. */
export function textTable(headers: string[], rows: string[][], maxRows = MAX_TABLE_ROWS): string {
  const shown = rows.slice(0, maxRows);
  const widths = headers.map((h, i) => Math.max(h.length, ...shown.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const more = rows.length > shown.length ? [moreText(rows.length - shown.length)] : [];
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...shown.map(line), ...more].join("\n");
}

/** Truncates long labels for SVG boxes (the full text stays in the <title> tooltip). */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
