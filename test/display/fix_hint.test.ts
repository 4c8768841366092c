/**
 * The topology fallbacks' "Fix:" hint: fixForDynamicBatch() for what the shape-aware analysis
 * refuses (a Reshape that hard-codes the batch, a tail that mixes samples), the shape-aware default
 * for what only the strict rule refuses. Each claim is checked against what fixForDynamicBatch()
 * actually does on the same network.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, IECore, toMimeBundle } from "../../kernel";
import { topologyFixHint } from "../../kernel/display/fix_hint";
import { GraphBuilder } from "../helpers/graph_builder";
import { pinnedReshape, reduceOverBatch } from "../helpers/fix_networks";
import { irPath } from "../helpers/models";

const ie = new IECore();

test("fix hint: a Reshape that hard-codes the batch points at fixForDynamicBatch(), which rewrites it", async () => {
  const net = pinnedReshape();
  const bundle = toMimeBundle(net.analyze());
  assert.match(
    bundle["text/plain"],
    /fix: `await net\.fixForDynamicBatch\(\)` rewrites a Reshape\/Flatten target .*\(Reshape pin\)/,
  );
  assert.match(bundle["text/html"], /<b>Fix:<\/b> `await net\.fixForDynamicBatch\(\)` rewrites/);
  const { changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied]),
    [["pin", "reshape-keep-batch", true]],
  );
});

test("fix hint: a Reduce over axis 0 points at fixForDynamicBatch()'s split, naming where the tail starts", async () => {
  const net = reduceOverBatch();
  const text = toMimeBundle(net.analyze())["text/plain"];
  assert.match(
    text,
    /fix: `await net\.fixForDynamicBatch\(\)` splits a tail that mixes samples off the network \(from ReduceSum sum_over_batch\)/,
  );
  assert.ok(!/rewrites a Reshape/.test(text), "no Reshape blocks here");
  const { changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied]),
    [["sum_over_batch", "split", true]],
  );
});

test("fix hint: head-pose's Reshapes under the strict rule: load with the shape-aware default, not fixForDynamicBatch()", async () => {
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  const strict = net.analyze({ mode: "strict" });
  const aware = net.analyze();
  assert.equal(strict.supported, false);
  const alone = toMimeBundle(strict)["text/plain"];
  assert.match(
    alone,
    /fix: these layers block under the strict \(legacy\) rule by their type; load with the shape-aware analysis, loadNetwork's default/,
  );
  assert.ok(!alone.includes("fixForDynamicBatch"));
  const both = toMimeBundle([strict, aware]);
  assert.match(both["text/plain"], /it accepts this network as it is \(fixForDynamicBatch\(\) has nothing to change\)/);
  assert.match(both["text/html"], /<b>Fix:<\/b> these layers block under the strict/);
  // The claim the hint makes: the shape-aware default accepts it, and fixForDynamicBatch() changes nothing.
  assert.equal(aware.supported, true);
  assert.deepEqual((await net.fixForDynamicBatch()).changes, []);
});

test("fix hint: face detection under the strict rule with its shape-aware report: what the shape-aware analysis still refuses is split", async () => {
  const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
  const hint = topologyFixHint(net.analyze({ mode: "strict" }), net.analyze()) ?? "";
  assert.match(
    hint,
    /it still refuses 1 layer\(s\): `await net\.fixForDynamicBatch\(\)` splits .*\(from DetectionOutput detection_out\)/,
  );
});

test("fix hint: none for a supported network", () => {
  const b = new GraphBuilder("ok");
  b.result(b.op("ReLU", [b.param("x", [1, 8])], {}), "out");
  const r = new CNNNetwork(b.build()).analyze();
  assert.equal(topologyFixHint(r), null);
  assert.ok(!/fix:/i.test(toMimeBundle(r)["text/plain"]));
});

test("fix hint: a Transpose that moves the batch to axis 1 before a pick along axis 0 points at fixForDynamicBatch(), which rewrites it", async () => {
  // x [1,3,2,4] → Transpose [1,0,2,3] → Gather index 0 on axis 0 → [1,2,4]: attention's q/k/v pick.
  const b = new GraphBuilder("qkv");
  const t = b.op("Transpose", [b.param("x", [1, 3, 2, 4]), b.ints([1, 0, 2, 3])], {}, { name: "qkv_perm" });
  const q = b.op("Gather", [t, b.constant([0], [], "i64"), b.constant([0], [], "i64")], { batch_dims: 0 }, { name: "q" });
  b.result(q, "out");
  const net = new CNNNetwork(b.build());
  const hint = topologyFixHint(net.analyze());
  assert.match(hint ?? "", /attention q\/k\/v Transpose that moves it to axis 1, to keep axis 0 \(Transpose qkv_perm\)/);
  const { network, changes } = await net.fixForDynamicBatch();
  assert.ok(
    changes.some((c) => c.kind === "transpose-keep-batch" && c.layer === "qkv_perm"),
    JSON.stringify(changes),
  );
  assert.equal(network.analyze().supported, true);
});
