/**
 * fixForDynamicBatch(): Reshape/Flatten targets that hard-code the batch are rewritten to keep
 * axis 0 and proven; targets that regroup samples are reported and left alone. Outputs are checked
 * here independently of the fix's own proof: the fixed network loaded with DYN_BATCH_ENABLED at
 * batch n against n batch-1 runs of the original through the public API, and onnxruntime on the
 * original ONNX file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { CNNNetwork, IECore } from "../../kernel";
import { checkPerSample } from "../../kernel/runtime/fix";
import { PortRef } from "../../kernel/graph/graph";
import { GraphBuilder } from "../helpers/graph_builder";
import { OnnxBuilder } from "../helpers/onnx_builder";
import { irPath } from "../helpers/models";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fix-"));
const ie = new IECore();
ie.setConfig({ DYN_BATCH_ENABLED: "YES" }, "CPU");

function randomWeights(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 0.2 - 0.1);
}

function conv(b: GraphBuilder, x: PortRef, cin: number, cout: number, name: string): PortRef {
  const w = b.constant(randomWeights(cout * cin * 9, cout + cin), [cout, cin, 3, 3], "f32");
  const attrs = { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1", auto_pad: "explicit" };
  return b.op("Convolution", [x, w], attrs, { name });
}

function sample(size: number, seed: number): Float32Array {
  return Float32Array.from(randomWeights(size, seed), (v) => v * 10);
}

/** Outputs of `net` (loaded with a dynamic batch of max 4) at batch n, by output name. */
async function runDynamic(
  net: CNNNetwork,
  n: number,
  inputs: Record<string, Float32Array>,
): Promise<Record<string, Float32Array>> {
  net.batchSize = 4;
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  req.setBatch(n);
  for (const [k, v] of Object.entries(inputs)) req.setInput(k, v);
  await req.infer();
  return Object.fromEntries(Object.keys(net.outputs).map((o) => [o, Float32Array.from(req.getBlob(o).data)]));
}

/** Outputs of the batch-1 network `net` run once per sample, concatenated. */
async function runBatch1(
  net: CNNNetwork,
  n: number,
  inputs: Record<string, Float32Array>,
): Promise<Record<string, Float32Array>> {
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "NO" });
  const parts: Record<string, number[]> = {};
  for (let i = 0; i < n; i++) {
    const req = exec.createInferRequest();
    for (const [k, v] of Object.entries(inputs)) req.setInput(k, v.subarray((i * v.length) / n, ((i + 1) * v.length) / n));
    await req.infer();
    for (const o of Object.keys(exec.outputs)) (parts[o] ??= []).push(...req.getBlob(o).data);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Float32Array.from(v)]));
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const k of Object.keys(b)) {
    assert.equal(a[k].length, b[k].length, `output ${k} length`);
    a[k].forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[k][i]))));
  }
  return worst;
}

/** Fixed at batch 3 (dynamic) against 3 batch-1 runs of the original. */
async function assertPerSample(original: CNNNetwork, fixed: CNNNetwork): Promise<void> {
  const inputs = Object.fromEntries(
    Object.entries(original.inputs).map(([k, p], i) => [k, sample(3 * p.shape.slice(1).reduce((x, y) => x * y, 1), 7 + i)]),
  );
  const want = await runBatch1(original, 3, inputs);
  const got = await runDynamic(fixed, 3, inputs);
  // Loaded through the public API, each network picks its kernels and thread split for its batch, so
  // float sums may be ordered differently: the bound is relative to the outputs' magnitude here.
  const scale = Math.max(1, ...Object.values(want).flatMap((v) => Array.from(v, Math.abs)));
  assert.ok(maxDiff(got, want) <= 1e-5 * scale, `fixed at batch 3 vs 3 batch-1 runs: ${maxDiff(got, want)} (scale ${scale})`);
}

/** [1,3,8,8] → conv 8 → Reshape(target) → MatMul [512,10] → out. */
function flattenThenDense(target: number[], specialZero: boolean): CNNNetwork {
  const b = new GraphBuilder("dense");
  const c = conv(b, b.param("data", [1, 3, 8, 8]), 3, 8, "conv");
  const r = b.op("Reshape", [c, b.ints(target)], { special_zero: specialZero }, { name: "flat" });
  const w = b.constant(randomWeights(512 * 10, 3), [512, 10], "f32");
  b.result(b.op("MatMul", [r, w], { transpose_a: false, transpose_b: false }, { name: "fc" }), "out");
  return new CNNNetwork(b.build());
}

test("fixForDynamicBatch: Reshape [1,512] becomes [-1,512]; the fix is proven and runs batch 3 like 3 batch-1 runs", async () => {
  const net = flattenThenDense([1, 512], false);
  assert.equal(net.analyze().supported, false);
  const { network, changes } = await net.fixForDynamicBatch();
  assert.equal(changes.length, 1);
  const [c] = changes;
  assert.equal(c.layer, "flat");
  assert.equal(c.kind, "reshape-keep-batch");
  assert.equal(c.applied, true, c.reason);
  assert.equal(c.before, "Reshape [1,512]");
  assert.equal(c.after, "Reshape [-1,512]");
  assert.match(c.proof!.analysis, /\[N,8,8,8\] → \[N,512\]/);
  assert.deepEqual(
    c.proof!.numeric.map((x) => x.n),
    [1, 2, 3, 4],
  );
  assert.ok(c.proof!.numeric.every((x) => x.maxAbsError <= 1e-5));
  assert.equal(network.analyze().supported, true);
  // The original is untouched.
  assert.equal(net.analyze().supported, false);
  await assertPerSample(net, network);
});

test("fixForDynamicBatch: Reshape [1,-1] becomes [0,-1] with special_zero (a -1 is already taken)", async () => {
  for (const sz of [false, true]) {
    const net = flattenThenDense([1, -1], sz);
    const { network, changes } = await net.fixForDynamicBatch();
    assert.equal(changes[0].applied, true, changes[0].reason);
    assert.equal(changes[0].after, "Reshape [0,-1] special_zero");
    assert.equal(network.analyze().supported, true);
    await assertPerSample(net, network);
  }
});

test("fixForDynamicBatch: a second hard-coded Reshape cut off behind the first is fixed too ([1,1,16,16] image target)", async () => {
  const b = new GraphBuilder("two");
  const x = b.param("x", [1, 256]);
  const w = b.constant(randomWeights(256 * 256, 5), [256, 256], "f32");
  const fc = b.op("MatMul", [x, w], { transpose_a: false, transpose_b: false }, { name: "fc" });
  const img = b.op("Reshape", [fc, b.ints([1, 1, 16, 16])], { special_zero: false }, { name: "to_image" });
  const c = conv(b, img, 1, 2, "conv");
  const back = b.op("Reshape", [c, b.ints([1, -1])], { special_zero: false }, { name: "to_vector" });
  b.result(back, "out");
  const net = new CNNNetwork(b.build());
  const { network, changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.applied, c.after]),
    [
      ["to_image", true, "Reshape [-1,1,16,16]"],
      ["to_vector", true, "Reshape [0,-1] special_zero"],
    ],
  );
  assert.equal(network.analyze().supported, true);
  await assertPerSample(net, network);
});

test("fixForDynamicBatch: a [1,-1] over a batch-4 tensor mixes its samples and is reported, not applied", async () => {
  const b = new GraphBuilder("mix");
  const x = b.param("tokens", [4, 8]);
  const flat = b.op("Reshape", [x, b.ints([1, -1])], { special_zero: false }, { name: "join" });
  const w = b.constant(randomWeights(32 * 5, 9), [32, 5], "f32");
  b.result(b.op("MatMul", [flat, w], { transpose_a: false, transpose_b: false }, { name: "fc" }), "out");
  const net = new CNNNetwork(b.build());
  const { network, changes } = await net.fixForDynamicBatch();
  assert.equal(changes.length, 1);
  assert.equal(changes[0].layer, "join");
  assert.equal(changes[0].applied, false);
  assert.equal(changes[0].kind, "none");
  assert.match(changes[0].reason, /not the model's batch 4/);
  assert.equal(changes[0].proof, null);
  assert.equal(network.analyze().supported, false);
});

test("fixForDynamicBatch: a target that folds the batch into channels is reported, not applied", async () => {
  const b = new GraphBuilder("fold");
  const x = b.param("x", [2, 3, 4, 4]);
  const r = b.op("Reshape", [x, b.ints([1, 6, 4, 4])], { special_zero: false }, { name: "fold" });
  b.result(conv(b, r, 6, 2, "conv"), "out");
  const { network, changes } = await new CNNNetwork(b.build()).fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.layer, c.applied]),
    [["fold", false]],
  );
  assert.match(changes[0].reason, /regroups the samples/);
  assert.equal(network.analyze().supported, false);
});

test("fixForDynamicBatch: a rewrite that changes the model at its own batch is refused (Reshape [-1,8,8] folds the batch into axis 0)", async () => {
  const b = new GraphBuilder("axis0");
  const x = b.param("x", [1, 4, 8, 8]);
  const r = b.op("Reshape", [x, b.ints([-1, 8, 8])], { special_zero: false }, { name: "split_channels" });
  b.result(r, "out");
  const { changes } = await new CNNNetwork(b.build()).fixForDynamicBatch();
  assert.equal(changes[0].applied, false);
  assert.match(changes[0].reason, /already infers or copies axis 0/);
});

test("fixForDynamicBatch: a network with another blocking layer keeps the original, and says why", async () => {
  const b = new GraphBuilder("blocked");
  const x = b.param("x", [1, 8]);
  const r = b.op("Reshape", [x, b.ints([1, 8])], { special_zero: false }, { name: "pin" });
  // Summed over every axis: a scalar per sample, which the split refuses (nothing to concatenate along).
  const s = b.op("ReduceSum", [r, b.ints([0, 1])], { keep_dims: false }, { name: "sum_over_batch" });
  b.result(s, "out");
  const net = new CNNNetwork(b.build());
  const { network, changes } = await net.fixForDynamicBatch();
  assert.equal(changes[0].applied, false);
  assert.match(changes[0].reason, /still has blocking layers \(sum_over_batch\)/);
  assert.equal(network.graph, net.graph);
});

test("fixForDynamicBatch: a supported network has no changes", async () => {
  const { network, changes } = await flattenThenDense([-1, 512], false).fixForDynamicBatch();
  assert.deepEqual(changes, []);
  assert.equal(network.analyze().supported, true);
});

test("checkPerSample: a candidate that mixes samples fails at n > 1 (the numeric proof can fail)", async () => {
  const build = (mix: boolean) => {
    const b = new GraphBuilder("cand");
    const x = b.param("x", [1, 8]);
    const other = mix ? b.op("ReduceMean", [x, b.ints([0])], { keep_dims: true }) : x;
    b.result(b.op("Add", [x, other], { auto_broadcast: "numpy" }, { name: "add" }), "out");
    return b.build();
  };
  const errors = await checkPerSample(build(false), build(true));
  assert.equal(errors[0].maxAbsError, 0);
  assert.ok(errors.slice(1).every((e) => e.maxAbsError > 1e-3));
});

test("fixForDynamicBatch on ONNX: Reshape [1,-1] and Flatten axis 0 are fixed; the fixed network serializes to ONNX and IR, and both load with a dynamic batch", async () => {
  const o = new OnnxBuilder();
  o.input("x", [3, 4, 4]);
  const c = o.op1("Conv", ["x", o.weight([4, 3, 3, 3]), o.weight([4])], { pads: [1, 1, 1, 1] });
  const flat = o.op1("Reshape", [c, o.int64([1, -1])]);
  const fc = o.op1("MatMul", [flat, o.weight([64, 6])]);
  const r = o.op1("Relu", [c]);
  const fl = o.op1("Flatten", [r], { axis: 0 });
  o.op("Identity", [fc], {}, 1, "y");
  o.op("Identity", [fl], {}, 1, "z");
  o.output("y", "z");
  const file = o.save(dir);
  const net = await ie.readNetwork(file);
  const { network, changes } = await net.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.type, c.kind, c.applied]),
    [
      ["Reshape", "reshape-keep-batch", true],
      ["Flatten", "flatten-keep-batch", true],
    ],
  );
  // onnxruntime on the original file, once per sample, is the oracle for both exports.
  const session = await ort.InferenceSession.create(file);
  const xs = sample(3 * 48, 21);
  const want: Record<string, Float32Array> = { y: new Float32Array(18), z: new Float32Array(192) };
  for (let i = 0; i < 3; i++) {
    const out = await session.run({ x: new ort.Tensor("float32", xs.slice(i * 48, (i + 1) * 48), [1, 3, 4, 4]) });
    want.y.set(out.y.data as Float32Array, i * 6);
    want.z.set(out.z.data as Float32Array, i * 64);
  }
  const onnxOut = path.join(dir, "fixed.onnx");
  network.serialize(onnxOut);
  const fixedSession = await ort.InferenceSession.create(onnxOut);
  const got = await fixedSession.run({ x: new ort.Tensor("float32", xs, [3, 3, 4, 4]) });
  // The writer names outputs after their tensors (the reader drops the Identity nodes): compare in order.
  const [gy, gz] = fixedSession.outputNames.map((k) => got[k].data as Float32Array);
  assert.ok(maxDiff({ y: gy, z: gz }, want) <= 1e-5);
  for (const f of [onnxOut, path.join(dir, "fixed.xml")]) {
    if (f.endsWith(".xml")) network.serialize(f);
    const back = await ie.readNetwork(f);
    assert.equal(back.analyze().supported, true, f);
    const ours = await runDynamic(back, 3, { x: xs });
    assert.ok(maxDiff({ y: ours[Object.keys(ours)[0]], z: ours[Object.keys(ours)[1]] }, want) <= 1e-5, f);
  }
});

test("fixForDynamicBatch on head-pose-estimation-adas-0001 with its three FC Reshapes hard-coded to [1,512]: all three fixed and proven", async () => {
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  // The same graph with each Reshape's constant target [-1,512] replaced by [1,512], as a batch-1 export would write it.
  const pinnedTargets = new Set(net.graph.nodes.filter((n) => n.type === "Reshape").map((n) => n.inputs[1].node));
  const graph = {
    ...net.graph,
    nodes: net.graph.nodes.map((n) =>
      pinnedTargets.has(n.id) ? { ...n, value: { ...n.value!, data: Float64Array.from([1, 512]) } } : n,
    ),
  };
  const pinned = new CNNNetwork(graph);
  assert.equal(pinned.analyze().supported, false);
  const { network, changes } = await pinned.fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.after, c.applied]),
    [
      ["Reshape [-1,512] special_zero", true],
      ["Reshape [-1,512] special_zero", true],
      ["Reshape [-1,512] special_zero", true],
    ],
  );
  assert.equal(network.analyze().supported, true);
  await assertPerSample(pinned, network);
});

test("fixForDynamicBatch: a model built at batch 2 with [2,-1] is fixed; the oracle runs the original two samples at a time", async () => {
  const b = new GraphBuilder("two");
  const x = b.param("x", [2, 4, 3]);
  const r = b.op("Reshape", [x, b.ints([2, -1])], { special_zero: false }, { name: "flat2" });
  const w = b.constant(randomWeights(12 * 5, 4), [12, 5], "f32");
  b.result(b.op("MatMul", [r, w], { transpose_a: false, transpose_b: false }), "out");
  const { network, changes } = await new CNNNetwork(b.build()).fixForDynamicBatch();
  assert.equal(changes[0].applied, true, changes[0].reason);
  assert.equal(changes[0].after, "Reshape [0,-1] special_zero");
  assert.equal(changes[0].proof!.sameAtBatch, 2);
  assert.equal(network.analyze().supported, true);
  assert.equal(network.batchSize, 2);
});

test("fixForDynamicBatch after batchSize = 4 on a batch-1 model: the batch the file hard-codes is 1, and the fixed network keeps batchSize 4", async () => {
  const b = new GraphBuilder("late");
  const c = conv(b, b.param("data", [1, 3, 8, 8]), 3, 8, "conv");
  b.result(b.op("Reshape", [c, b.ints([1, -1])], { special_zero: true }, { name: "flat" }), "out");
  const net = new CNNNetwork(b.build());
  net.batchSize = 4; // [1,-1] still prepares at batch 4, folding the 4 samples into one row
  assert.deepEqual(Object.values(net.outputs)[0].shape, [1, 2048]);
  const { network, changes } = await net.fixForDynamicBatch();
  assert.equal(changes[0].applied, true, changes[0].reason);
  assert.equal(changes[0].proof!.sameAtBatch, 1);
  assert.equal(network.batchSize, 4);
  assert.deepEqual(Object.values(network.outputs)[0].shape, [4, 512]);
});
