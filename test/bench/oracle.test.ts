/** The bench's output check against onnxruntime: the error measure and the comparison of named outputs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DynbatchError } from "../../kernel";
import { BenchMismatchError, compareWithOrt, ORT_TOLERANCE, relativeError } from "../../kernel/bench";

test("relativeError: max |a − b| over max |b|, absolute for an all-zero reference, NaN and length mismatches fail", () => {
  assert.equal(relativeError([10, 21, -40], [10, 20, -50]), 10 / 50);
  assert.equal(relativeError([0.5, 0], [0, 0]), 0.5);
  assert.equal(relativeError([1, 2], [1, 2]), 0);
  assert.ok(Number.isNaN(relativeError([NaN, 1], [1, 1])));
  assert.ok(Number.isNaN(relativeError([1, 1], [1, NaN])));
  assert.equal(relativeError([1, 2], [1, 2, 3]), Infinity);
});

const where = { model: "m", batch: 4, mode: "dynamic" };
const t = (data: number[], shape = [data.length]) => ({ shape, data });

test("compareWithOrt: outputs matched by name, else by position; returns the worst error", () => {
  const ours = { a: t([1, 2]), b: t([100.001, 0]) };
  // "a" by name; "b" is the second ORT output under another name.
  const err = compareWithOrt(where, ours, { a: t([1, 2]), renamed: t([100, 0]) }, ["a", "renamed"]);
  assert.ok(Math.abs(err - 1e-5) < 1e-12, `${err}`);
});

test("compareWithOrt: an error above the tolerance, NaN, another shape or a missing output throw BenchMismatchError", () => {
  const check = (fn: () => void, output: string, message: RegExp, error?: number) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof BenchMismatchError && e instanceof DynbatchError);
      assert.equal(e.code, "NATIVE");
      assert.deepEqual([e.model, e.batch, e.mode, e.output], ["m", 4, "dynamic", output]);
      if (error !== undefined) assert.equal(e.error, error);
      assert.match(e.message, message);
      return true;
    });
  const ok = t([1, 1]);
  check(
    () => compareWithOrt(where, { x: ok, y: t([1, 1.5]) }, { x: ok, y: t([1, 2]) }, ["x", "y"]),
    "y",
    /^m n=4 dynamic: output 'y' differs from onnxruntime: max error 2\.50e-1 > 0\.0001 \(\|dynbatch − ORT\| \/ max \|ORT\|\)$/,
    0.25,
  );
  // Just above the default tolerance fails; the tolerance given is used.
  const near = t([1 + 2 * ORT_TOLERANCE]);
  check(() => compareWithOrt(where, { x: near }, { x: t([1]) }, ["x"]), "x", /max error 2\.00e-4 > 0\.0001/);
  assert.ok(compareWithOrt(where, { x: near }, { x: t([1]) }, ["x"], 1e-3) > ORT_TOLERANCE);
  check(() => compareWithOrt(where, { x: t([NaN]) }, { x: t([1]) }, ["x"]), "x", /max error NaN/);
  check(
    () => compareWithOrt(where, { x: t([1, 2], [1, 2]) }, { x: t([1, 2], [2, 1]) }, ["x"]),
    "x",
    /shape \[1,2\], onnxruntime's \[2,1\]/,
    Infinity,
  );
  check(
    () => compareWithOrt(where, { x: ok, y: ok }, { x: ok }, ["x"]),
    "y",
    /onnxruntime has no output 'y' and no output #2 \(it has x\)/,
    Infinity,
  );
});
