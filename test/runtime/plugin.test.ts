/** The plugin helpers shared by the CPU and GPU plugins. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { bufferViews } from "../../kernel/plugins/plugin";

test("bufferViews: one Float32Array per tensor for the request's life, over the native memory", () => {
  const memory = new Map([
    [0, new ArrayBuffer(16)],
    [3, new ArrayBuffer(8)],
  ]);
  const asked: number[] = [];
  const buffer = bufferViews((tensor) => {
    asked.push(tensor);
    const m = memory.get(tensor);
    if (!m) throw new Error(`no tensor ${tensor}`);
    return m;
  });
  const a = buffer(0);
  assert.equal(a.length, 4);
  assert.equal(buffer(0), a, "the same view again");
  buffer(3).set([1.5, 2.5]);
  assert.deepEqual([...new Float32Array(memory.get(3)!)], [1.5, 2.5], "a view writes the native memory");
  assert.deepEqual(asked, [0, 3], "each tensor asked of the native side once");
  assert.throws(() => buffer(9), /no tensor 9/);
  assert.throws(() => buffer(9), /no tensor 9/, "a failure is not cached");
});
