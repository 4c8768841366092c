/**
 * fixForDynamicBatch's split, end to end through the public API: the fixed network loaded with
 * DYN_BATCH_ENABLED runs setBatch(n), and its outputs are checked here against n batch-1 runs of
 * the original loaded on its own (the split's own numeric proof is not the oracle), and face
 * detection against the original at a static batch n (OpenVINO's batch-N DetectionOutput layout).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CNNNetwork, DynamicBatchError, IECore, InputError, SplitNetwork, SplitNetworkError } from "../../kernel";
import { planSplit } from "../../kernel/analysis/split";
import { checkSplit } from "../../kernel/runtime/split_check";
import { PortRef } from "../../kernel/graph/graph";
import { GraphBuilder } from "../helpers/graph_builder";
import { irPath, maxAbsDiff, numel, randomData } from "../helpers/models";

const ie = new IECore();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-split-"));
const CONV = { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1", auto_pad: "explicit" };

function conv(b: GraphBuilder, x: PortRef, cin: number, cout: number, name: string, seed: number): PortRef {
  const w = b.constant(randomData(cout * cin * 9, seed, -0.3, 0.3), [cout, cin, 3, 3], "f32");
  return b.op("Convolution", [x, w], CONV, { name });
}

/** Each output of `net` run once per sample at batch 1 (a static load of the original), concatenated. */
async function batch1Runs(net: CNNNetwork, n: number, input: Float32Array): Promise<Record<string, Float32Array>> {
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  const name = Object.keys(net.inputs)[0];
  const size = input.length / n;
  const parts: Record<string, number[]> = {};
  for (let i = 0; i < n; i++) {
    req.setInput(name, input.subarray(i * size, (i + 1) * size));
    await req.infer();
    for (const o of Object.keys(net.outputs)) (parts[o] ??= []).push(...req.getBlob(o).data);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Float32Array.from(v)]));
}

/** Fixes `net`, checks the split was applied and proven, and compares setBatch(n) for n = 1..4 with n batch-1 runs. */
async function assertSplitRuns(net: CNNNetwork, tail: string[]): Promise<SplitNetwork> {
  const { network, changes } = await net.fixForDynamicBatch();
  const split = changes.find((c) => c.kind === "split");
  assert.ok(split?.applied, `split not applied: ${split?.reason}`);
  assert.deepEqual(split.split?.tail, tail);
  assert.deepEqual(
    split.proof?.numeric.map((x) => x.n),
    [1, 2, 3, 4],
  );
  assert.ok(split.proof!.numeric.every((x) => x.maxAbsError <= 1e-5));
  assert.ok(network instanceof SplitNetwork);
  assert.equal(network.analyze().supported, true);
  network.batchSize = 4;
  const req = (await ie.loadNetwork(network, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const input = Object.keys(net.inputs)[0];
  const size = numel(net.inputs[input].shape.slice(1));
  for (const n of [1, 2, 3, 4]) {
    const x = randomData(n * size, 5 + n, -1, 1);
    const want = await batch1Runs(net, n, x);
    req.setBatch(n);
    req.setInput(input, x);
    await req.infer();
    for (const [name, data] of Object.entries(want)) {
      const blob = req.getBlob(name);
      const per = net.outputs[name].shape;
      assert.deepEqual(blob.shape, [n * per[0], ...per.slice(1)], `${name} at n = ${n}`);
      assert.ok(maxAbsDiff(blob.data, data) <= 1e-5, `${name} at n = ${n}: ${maxAbsDiff(blob.data, data)}`);
    }
  }
  return network;
}

test("split: a Softmax over axis 0 after a conv; the body's own output stays batched", async () => {
  const b = new GraphBuilder("softmax0");
  const c = conv(b, b.param("x", [1, 3, 6, 6]), 3, 4, "conv", 1);
  b.result(b.op("ReLU", [c], {}, { name: "relu" }), "features");
  const s = b.op("SoftMax", [c], { axis: 0 }, { name: "softmax_over_batch" });
  b.result(b.op("Add", [s, c], { auto_broadcast: "numpy" }, { name: "add" }), "scores");
  await assertSplitRuns(new CNNNetwork(b.build()), ["softmax_over_batch", "add"]);
});

test("split: a ReduceSum over axis 0 followed by per-sample layers feeding two outputs", async () => {
  const b = new GraphBuilder("sum0");
  const c = conv(b, b.param("x", [1, 2, 5, 5]), 2, 3, "conv", 2);
  const sum = b.op("ReduceSum", [c, b.ints([0])], { keep_dims: true }, { name: "sum_over_batch" });
  const c2 = conv(b, sum, 3, 2, "conv2", 3);
  b.result(b.op("Sigmoid", [c2], {}, { name: "sig" }), "a");
  b.result(b.op("Tanh", [c2], {}, { name: "tanh" }), "b");
  await assertSplitRuns(new CNNNetwork(b.build()), ["sum_over_batch", "conv2", "sig", "tanh"]);
});

test("split: a Concat along axis 0 that folds the batch into one list", async () => {
  const b = new GraphBuilder("concat0");
  const x = b.param("x", [1, 2, 4, 4]);
  const l = conv(b, x, 2, 3, "left", 4);
  const r = conv(b, x, 2, 3, "right", 5);
  b.result(b.op("Concat", [l, r], { axis: 0 }, { name: "stack" }), "list");
  await assertSplitRuns(new CNNNetwork(b.build()), ["stack"]);
});

test("split: a Reshape [-1,4] that folds the batch into a list is refused by rewrite 1, then split", async () => {
  const b = new GraphBuilder("list");
  const c = conv(b, b.param("x", [1, 2, 4, 4]), 2, 4, "conv", 6);
  b.result(b.op("Reshape", [c, b.ints([-1, 4])], { special_zero: false }, { name: "to_list" }), "boxes");
  const net = new CNNNetwork(b.build());
  await assertSplitRuns(net, ["to_list"]);
  const { changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied]),
    [
      ["to_list", "none", false],
      ["to_list", "split", true],
    ],
  );
});

test("split: the tail also reads the network input; loaded without DYN_BATCH_ENABLED it runs the network's batch", async () => {
  const b = new GraphBuilder("input_cut");
  const x = b.param("x", [1, 3, 4, 4]);
  const sum = b.op("ReduceSum", [conv(b, x, 3, 3, "conv", 10), b.ints([0])], { keep_dims: true }, { name: "sum_over_batch" });
  b.result(b.op("Add", [sum, x], { auto_broadcast: "numpy" }, { name: "add" }), "out");
  const net = new CNNNetwork(b.build());
  const network = await assertSplitRuns(net, ["sum_over_batch", "add"]);
  network.batchSize = 2;
  const exec = await ie.loadNetwork(network, "CPU");
  assert.equal(exec.dynamicBatch, false);
  const req = exec.createInferRequest();
  const input = randomData(96, 11, -1, 1);
  req.setInput("x", input);
  await req.infer();
  assert.deepEqual(req.getBlob("out").shape, [2, 3, 4, 4]);
  assert.ok(maxAbsDiff(req.getBlob("out").data, (await batch1Runs(net, 2, input)).add) <= 1e-5);
});

test("split with rewrite 1: a pinned Reshape is rewritten and a Softmax over axis 0 split off; a cut tensor is also an output", async () => {
  const b = new GraphBuilder("both");
  const c = conv(b, b.param("x", [1, 2, 4, 4]), 2, 2, "conv", 12);
  const flat = b.op("Reshape", [c, b.ints([1, 32])], { special_zero: false }, { name: "pin" });
  b.result(flat, "flat");
  b.result(b.op("SoftMax", [flat], { axis: 0 }, { name: "sm" }), "probs");
  const net = new CNNNetwork(b.build());
  await assertSplitRuns(net, ["sm"]);
  const { changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied, c.after]),
    [
      ["pin", "reshape-keep-batch", true, "Reshape [-1,32]"],
      ["sm", "split", true, changes[1].after],
    ],
  );
  // The rewrite's numeric proof is the split's: the rewritten body runs at n = 1..4.
  assert.deepEqual(changes[0].proof?.numeric, changes[1].proof?.numeric);
});

test("split refused: the reason is reported, the original kept, and loading it with a dynamic batch still fails", async () => {
  const b = new GraphBuilder("empty");
  b.result(b.op("SoftMax", [b.param("x", [1, 8])], { axis: 0 }, { name: "sm" }), "out");
  const net = new CNNNetwork(b.build());
  const { network, changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied, c.proof]),
    [["sm", "split", false, null]],
  );
  assert.match(changes[0].reason, /split refused: 'sm' reads the network's input directly/);
  assert.ok(!(network instanceof SplitNetwork));
  await assert.rejects(ie.loadNetwork(network, "CPU", { DYN_BATCH_ENABLED: "YES" }), DynamicBatchError);
});

test("checkSplit can fail: a tail fed the wrong cut tensor is caught at every n", async () => {
  const b = new GraphBuilder("swap");
  const x = b.param("x", [1, 2, 4, 4]);
  const l = conv(b, x, 2, 3, "left", 7);
  const r = conv(b, x, 2, 3, "right", 8);
  b.result(b.op("Subtract", [b.op("ReduceMax", [l, b.ints([0])], { keep_dims: true }), r], {}, { name: "sub" }), "out");
  const g = b.build();
  const plan = planSplit(g);
  if (typeof plan === "string") return assert.fail(plan);
  assert.ok((await checkSplit(g, plan, [1, 2])).every((e) => e.maxAbsError === 0));
  const [c0, c1] = plan.cuts;
  const swapped = {
    ...plan,
    cuts: [
      { ...c0, bodyOutput: c1.bodyOutput },
      { ...c1, bodyOutput: c0.bodyOutput },
    ],
  };
  assert.ok((await checkSplit(g, swapped, [1, 2])).every((e) => e.maxAbsError > 1e-3));
});

test("face-detection-adas-0001: split at DetectionOutput; batch n equals the original at static batch n and n batch-1 runs", async () => {
  const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
  const { network, changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.kind, c.applied]),
    [["detection_out", "split", true]],
  );
  assert.deepEqual(changes[0].split?.cuts, [
    { tensor: "mbox_loc", shape: [1, 40448] },
    { tensor: "mbox_conf_flatten", shape: [1, 20224] },
  ]);
  assert.deepEqual(changes[0].split?.outputs, [{ output: "detection_out/sink_port_0", from: "tail", join: "detections" }]);
  assert.ok(network instanceof SplitNetwork);
  network.batchSize = 3;
  const exec = await ie.loadNetwork(network, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  const size = 3 * 384 * 672;
  // A smooth pattern, not noise: the detector finds boxes in it, so rows are compared, not only end markers.
  const x = Float32Array.from({ length: 3 * size }, (_, i) => 128 + 127 * Math.sin(i * 0.0007 + Math.floor(i / size)));
  const single = await batch1Runs(net, 3, x);
  for (const n of [2, 3]) {
    req.setBatch(n);
    req.setInput("data", x.subarray(0, n * size));
    await req.infer();
    const got = req.getBlob("detection_out");
    assert.deepEqual(got.shape, [1, 1, 200 * n, 7]);
    net.batchSize = n;
    const stat = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    stat.setInput("data", x.subarray(0, n * size));
    await stat.infer();
    assert.deepEqual(Array.from(got.data), Array.from(stat.getBlob("detection_out").data));
    // The same rows as each sample's batch-1 run, relabelled with its index.
    const rows = (d: Float32Array) => {
      const out: number[][] = [];
      for (let r = 0; r < d.length && d[r] >= 0; r += 7) out.push(Array.from(d.subarray(r, r + 7)));
      return out;
    };
    const want = Array.from({ length: n }, (_, i) =>
      rows(single.detection_out.subarray(i * 1400, (i + 1) * 1400)).map((r) => [i, ...r.slice(1)]),
    ).flat();
    assert.ok(want.length > n, `expected detections in the test pattern, got ${want.length}`);
    assert.deepEqual(rows(got.data), want);
  }
  net.batchSize = 1;
});

test("a split network refuses serialize, exportTriton, quantize and a spatial reshape with typed errors; its body serializes", async () => {
  const b = new GraphBuilder("refuse");
  const c = conv(b, b.param("x", [1, 3, 6, 6]), 3, 4, "conv", 9);
  b.result(b.op("SoftMax", [c], { axis: 0 }, { name: "sm" }), "out");
  const { network } = await new CNNNetwork(b.build()).fixForDynamicBatch();
  assert.ok(network instanceof SplitNetwork);
  assert.throws(
    () => network.serialize(path.join(dir, "split.xml")),
    (e: unknown) => e instanceof SplitNetworkError && e.code === "SPLIT_NETWORK" && /starting at 'sm'/.test(e.message),
  );
  assert.ok(!fs.existsSync(path.join(dir, "split.xml")));
  await assert.rejects(network.exportTriton(path.join(dir, "repo"), { name: "m", maxBatch: 4 }), SplitNetworkError);
  await assert.rejects(network.quantize({ calibration: [] }), SplitNetworkError);
  assert.throws(() => network.reshape({ x: [2, 3, 8, 8] }), InputError);
  network.reshape({ x: [2, 3, 6, 6] });
  assert.equal(network.batchSize, 2);
  network.body().serialize(path.join(dir, "body.xml"));
  const body = await ie.readNetwork(path.join(dir, "body.xml"));
  assert.deepEqual(Object.keys(body.outputs), ["conv"]);
  assert.equal(body.analyze().supported, true);
});
