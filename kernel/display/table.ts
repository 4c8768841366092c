/**
 * `table(rows, options)`: a plain table for `display`, so that a notebook does not hand-format
 * one. Rows are objects (columns by key) or arrays (columns by position); numbers are formatted
 * (integers whole, others to about three significant digits, or a fixed number of decimals per
 * column) and right-aligned,
 * every cell is escaped, and long tables are capped like every other table of the display.
 */
import { InputError } from "../errors";
import { MimeBundle } from "./bundle";
import { escapeHtml, htmlTable, MAX_TABLE_ROWS, num, textTable } from "./format";

/** What a cell may hold; null, undefined and NaN show as "—". */
export type TableCell = string | number | boolean | null | undefined;

/** One column: the row key (or, for array rows, the index) it reads, its heading and number format. */
export interface TableColumn {
  key: string | number;
  /** Heading; the key when absent. */
  label?: string;
  /** Decimals for numbers in this column; when absent, integers whole and others to about three significant digits. */
  digits?: number;
}

export interface TableOptions {
  /** Which columns, in order: keys, or column specs. Default: the keys of the rows (array rows: 0, 1, …). */
  columns?: (string | number | TableColumn)[];
  /** A line above the table. */
  caption?: string;
  /** Rows shown before "… N more rows" (default 25; Infinity shows all). */
  maxRows?: number;
}

/** A formatted table, ready for `display`; `toString()` is its text form. */
export class Table {
  constructor(
    /** Column headings. */
    readonly headers: string[],
    /** Formatted cells, one array per row. */
    readonly cells: string[][],
    /** Indexes of the columns that hold numbers only (right-aligned). */
    readonly numericColumns: number[],
    readonly caption: string | undefined,
    readonly maxRows: number,
  ) {}

  toString(): string {
    const body = textTable(this.headers, this.cells, this.maxRows);
    return this.caption ? `${this.caption}\n${body}` : body;
  }
}

function formatCell(value: TableCell, digits: number | undefined): string {
  if (value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))) return "—";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  if (digits === undefined) return Number.isInteger(value) ? value.toLocaleString("en-US") : num(value);
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function columnsOf(rows: readonly (Record<string, TableCell> | readonly TableCell[])[], options: TableOptions): TableColumn[] {
  if (options.columns) return options.columns.map((c) => (typeof c === "object" ? c : { key: c }));
  if (rows.length && Array.isArray(rows[0])) {
    const width = Math.max(...rows.map((r) => (r as readonly TableCell[]).length));
    return Array.from({ length: width }, (_, i) => ({ key: i }));
  }
  const keys = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) keys.add(k);
  return [...keys].map((key) => ({ key }));
}

/** A table of `rows` for `display(table(rows, { columns, caption, maxRows }))`. */
export function table(rows: readonly (Record<string, TableCell> | readonly TableCell[])[], options: TableOptions = {}): Table {
  if (!Array.isArray(rows)) throw new InputError(`table(rows): rows must be an array of objects or arrays, got ${typeof rows}`);
  const maxRows = options.maxRows ?? MAX_TABLE_ROWS;
  if (!(maxRows >= 0)) throw new InputError(`table(): maxRows must be a number ≥ 0, got ${String(options.maxRows)}`);
  rows.forEach((r, i) => {
    if (typeof r !== "object" || r === null)
      throw new InputError(`table(rows): row ${i} is ${r === null ? "null" : typeof r}, not an object or array`);
  });
  const columns = columnsOf(rows, options);
  columns.forEach((c) => {
    if (c.digits !== undefined && !(Number.isInteger(c.digits) && c.digits >= 0 && c.digits <= 20))
      throw new InputError(`table(): column ${String(c.key)}: digits must be an integer in [0, 20], got ${c.digits}`);
  });
  const value = (r: Record<string, TableCell> | readonly TableCell[], key: string | number): TableCell =>
    (r as Record<string | number, TableCell>)[key];
  const cells = rows.map((r) => columns.map((c) => formatCell(value(r, c.key), c.digits)));
  const numericColumns = columns.flatMap((c, i) => {
    const values = rows.map((r) => value(r, c.key)).filter((v) => v !== null && v !== undefined);
    return values.length && values.every((v) => typeof v === "number") ? [i] : [];
  });
  return new Table(
    columns.map((c) => c.label ?? String(c.key)),
    cells,
    numericColumns,
    options.caption,
    maxRows,
  );
}

/** The bundle of a table: HTML (caption, then the table) and its text form. */
export function tableBundle(t: Table): MimeBundle {
  const caption = t.caption ? `<div><b>${escapeHtml(t.caption)}</b></div>` : "";
  const rows = t.cells.map((r) => r.map(escapeHtml));
  return {
    "text/html": `<div style="font-family:sans-serif;font-size:13px;line-height:1.4">${caption}${htmlTable(t.headers, rows, t.numericColumns, t.maxRows)}</div>`,
    "text/plain": t.toString(),
  };
}
