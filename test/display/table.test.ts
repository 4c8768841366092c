/**
 * table(rows, options): object and array rows, the column choice and headings, number formats,
 * escaping (read back by Python's HTML parser), the row cap and typed errors for bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError, table, Table, toMimeBundle } from "../../kernel";
import { assertInert, readHtml } from "./html";

const EVIL = "<img src=x onerror=alert(1)>";

test("object rows: columns from the keys, numbers right-aligned and formatted, missing cells as —", () => {
  const t = table([
    { model: "landmarks", n: 1, rate: 753.456 },
    { model: EVIL, n: 16, rate: 16479.2, note: "saturated" },
  ]);
  assert.ok(t instanceof Table);
  assert.deepEqual(t.headers, ["model", "n", "rate", "note"]);
  assert.deepEqual(t.cells, [
    ["landmarks", "1", "753", "—"],
    [EVIL, "16", "16,479", "saturated"],
  ]);
  assert.deepEqual(t.numericColumns, [1, 2]);
  const b = toMimeBundle(t);
  assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
  assert.equal(b["text/plain"], String(t));
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.equal(html.tags.tr, 3);
  assert.equal((b["text/html"].match(/<td style="text-align:right">/g) ?? []).length, 4, "two numeric cells per row");
  assert.equal((b["text/html"].match(/<td style="text-align:left">/g) ?? []).length, 4, "two text cells per row");
});

test("array rows with column specs: labels, fixed decimals, order and a caption", () => {
  const t = table(
    [
      ["a", 1234.5, 0.5, true],
      ["b", NaN, Infinity, false],
    ],
    {
      columns: [{ key: 1, label: "ms", digits: 1 }, 0, { key: 2, label: "ratio", digits: 2 }, { key: 3, label: "ok" }],
      caption: "Latency",
    },
  );
  assert.deepEqual(t.headers, ["ms", "0", "ratio", "ok"]);
  assert.deepEqual(t.cells, [
    ["1,234.5", "a", "0.50", "true"],
    ["—", "b", "∞", "false"],
  ]);
  assert.equal(
    String(t),
    ["Latency", "ms       0  ratio  ok", "-------  -  -----  -----", "1,234.5  a  0.50   true", "—        b  ∞      false"].join(
      "\n",
    ),
  );
  assert.ok(readHtml(toMimeBundle(t)["text/html"]).text.startsWith("Latency"));
});

test("long tables: maxRows rows, then how many more; Infinity shows all", () => {
  const rows = Array.from({ length: 40 }, (_, i) => ({ i }));
  assert.equal(String(table(rows)).split("\n").at(-1), "… 15 more rows");
  assert.equal(readHtml(toMimeBundle(table(rows, { maxRows: 5 }))["text/html"]).tags.tr, 1 + 5 + 1);
  assert.equal(String(table(rows, { maxRows: Infinity })).split("\n").length, 2 + 40);
  assert.deepEqual([table([]).headers, table([]).cells], [[], []]);
});

test("bad input is an InputError naming what is wrong", () => {
  assert.throws(
    () => table("x" as never),
    (e: Error) => e instanceof InputError && /rows must be an array/.test(e.message),
  );
  assert.throws(
    () => table([null as never]),
    (e: Error) => e instanceof InputError && /row 0 is null/.test(e.message),
  );
  assert.throws(() => table([{ a: 1 }], { maxRows: -1 }), InputError);
  assert.throws(() => table([{ a: 1 }], { columns: [{ key: "a", digits: 1.5 }] }), /column a: digits/);
});
