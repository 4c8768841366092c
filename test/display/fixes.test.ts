/**
 * display(changes): fixForDynamicBatch()'s changes as their own bundle (JSON part equal to the
 * list, HTML and text fallbacks with before → after and the proof or the reason), and the topology
 * fallbacks pointing at fixForDynamicBatch() only where a blocking layer is a Reshape or Flatten.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BATCH_FIX_MIME, CNNNetwork, toMimeBundle } from "../../kernel";
import { GraphBuilder } from "../helpers/graph_builder";

const EVIL = "<img src=x onerror=alert(1)>";

/** x [1,8] → Reshape [1,8] named `name` (fixable) → Add → out; and with `mix`, a [1,-1] over a batch-2 input (refused). */
function network(name: string, batch = 1): CNNNetwork {
  const b = new GraphBuilder("fixes");
  const x = b.param("x", [batch, 8]);
  const r = b.op("Reshape", [x, b.ints(batch === 1 ? [1, 8] : [1, -1])], { special_zero: false }, { name });
  b.result(b.op("Add", [r, b.constant([1], [1], "f32")], { auto_broadcast: "numpy" }), "out");
  return new CNNNetwork(b.build());
}

test("display(changes): an applied change shows before → after and its three proofs; the JSON part is the list", async () => {
  const { changes } = await network(EVIL).fixForDynamicBatch();
  const bundle = toMimeBundle(changes);
  assert.deepEqual(bundle[BATCH_FIX_MIME], changes);
  const text = bundle["text/plain"];
  assert.match(text, /1 of 1 layer\(s\) rewritten and proven/);
  assert.match(text, /Reshape \[1,8\] → Reshape \[-1,8\]/);
  assert.match(text, /same shapes as the original at its batch 1/);
  assert.match(text, /analysis: axis 0 stays N/);
  assert.match(text, /n=1: 0\.0e\+0, n=2: 0\.0e\+0, n=3: 0\.0e\+0, n=4: 0\.0e\+0/);
  const html = bundle["text/html"];
  assert.ok(!html.includes("<img"), "a layer name is text, never markup");
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  assert.match(html, /Reshape \[1,8\] → Reshape \[-1,8\]/);
  assert.match(html, />applied</);
});

test("display(changes): a refused change shows why; an empty list says there was nothing to change", async () => {
  const { changes } = await network("join", 2).fixForDynamicBatch();
  const text = toMimeBundle(changes)["text/plain"];
  assert.match(text, /0 of 1 layer\(s\) rewritten and proven, 1 left alone/);
  assert.match(text, /not applied: target \[1,-1\] has 1 on axis 0, not the model's batch 2/);
  assert.match(toMimeBundle(changes)["text/html"], />refused</);
  assert.equal(toMimeBundle([])["text/plain"], "fixForDynamicBatch: nothing to change");
});

test("topology fallbacks point at fixForDynamicBatch() only where a Reshape or Flatten blocks", () => {
  const bundle = toMimeBundle(network("pin").analyze());
  assert.match(bundle["text/plain"], /fix: .*fixForDynamicBatch\(\)/);
  assert.match(bundle["text/html"], /<b>Fix:<\/b> .*fixForDynamicBatch\(\)/);
  const b = new GraphBuilder("reduce");
  b.result(b.op("ReduceSum", [b.param("x", [1, 8]), b.ints([0])], { keep_dims: true }), "out");
  const other = toMimeBundle(new CNNNetwork(b.build()).analyze());
  assert.ok(!other["text/plain"].includes("fixForDynamicBatch"));
  assert.ok(!other["text/html"].includes("fixForDynamicBatch"));
});
