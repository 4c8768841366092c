import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "util";
import { dict, record, table } from "../../kernel/dict";

const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

test("dict, table and record hold names of Object.prototype's members as their own keys, and only those", () => {
  for (const make of [
    (e: [string, number][]) => dict(e),
    (e: [string, number][]) => table(Object.fromEntries(e)),
    (e: [string, number][]) => record(e),
  ]) {
    const d = make([
      ["__proto__", 1],
      ["toString", 2],
    ]);
    assert.deepEqual(Object.keys(d), ["__proto__", "toString"]);
    assert.equal(d["__proto__"], 1);
    assert.equal(d.toString, 2 as unknown);
    assert.equal(d["constructor"], undefined);
    assert.equal(d["hasOwnProperty"], undefined);
    assert.equal(Object.getPrototypeOf(d), null);
  }
});

test("record prints like an object literal (notebooks show it), names from a model included", () => {
  const r = record(NAMES.map((n, i) => [n, { shape: [i] }] as const));
  const shown = inspect(r);
  assert.doesNotMatch(shown, /null prototype/);
  for (const n of NAMES) assert.ok(shown.includes(n), `${shown} shows ${n}`);
  assert.equal(JSON.stringify(record([["a", 1]])), '{"a":1}');
});
