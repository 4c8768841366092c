/**
 * CNNNetwork.quantize on landmarks with random calibration data: where FakeQuantize goes, both
 * analyses, a dynamic batch, the error against FP32, and onnxruntime on the QDQ export of the
 * quantized network as the independent float reference of the same FakeQuantize graph.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { CNNNetwork, DynbatchError, IECore, InferRequest } from "../../kernel";
import { loadAddon } from "../../kernel/plugins/native";
import { irPath, numel, randomData } from "../helpers/models";

const MODEL = "landmarks-regression-retail-0009";
const LIMIT = 4;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-quantize-"));

async function landmarks(): Promise<{ net: CNNNetwork; input: string; shape: number[]; per: number }> {
  const net = await new IECore().readNetwork(irPath(MODEL));
  const input = Object.keys(net.inputs)[0];
  const shape = net.inputs[input].shape.slice(1);
  return { net, input, shape, per: numel(shape) };
}

const calibration = (per: number, count: number) => Array.from({ length: count }, (_, i) => randomData(per, 500 + i));

async function run(req: InferRequest, input: string, out: string, n: number, data: Float32Array): Promise<Float32Array> {
  req.setBatch(n);
  req.setInput(input, data);
  req.getBlob(out).data.fill(NaN);
  await req.infer();
  return Float32Array.from(req.getBlob(out).data);
}

test("quantize(landmarks): FakeQuantize before every convolution's input and weights; strict refuses, shape-aware proves it", async () => {
  const { net, per } = await landmarks();
  const q = await net.quantize({ calibration: calibration(per, 8) });
  const convs = net.layers.filter((l) => l.type === "Convolution" || l.type === "GroupConvolution" || l.type === "MatMul");
  const fqs = q.layers.filter((l) => l.type === "FakeQuantize");
  assert.ok(convs.length > 0);
  assert.equal(fqs.filter((l) => l.name.endsWith("/weights/fq")).length, convs.length);
  // One activation FakeQuantize per distinct tensor feeding a convolution (each convolution reads one).
  assert.ok(fqs.length > convs.length && fqs.length <= 2 * convs.length, `${fqs.length} FakeQuantize for ${convs.length} layers`);
  const strict = q.analyze({ mode: "strict" });
  assert.equal(strict.supported, false);
  assert.ok(strict.layers.some((l) => l.type === "FakeQuantize" && l.verdict === "unsupported"));
  assert.equal(q.analyze({ mode: "shape-aware" }).supported, true);
  // The original network is left as it was.
  assert.equal(net.layers.filter((l) => l.type === "FakeQuantize").length, 0);
});

test("quantize(landmarks) at setBatch(1..4): int8 kernels agree with the FP32 FakeQuantize network and onnxruntime on its QDQ export", async (t) => {
  const { net, input, shape, per } = await landmarks();
  const q = await net.quantize({ calibration: calibration(per, 16) });
  const file = path.join(dir, "landmarks-int8.onnx");
  q.serialize(file);
  const session = await ort.InferenceSession.create(file);
  const ie = new IECore();
  net.batchSize = LIMIT;
  q.batchSize = LIMIT;
  const fp32 = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const int8 = (await ie.loadNetwork(q, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const emulated = (await ie.loadNetwork(q, "CPU", { DYN_BATCH_ENABLED: "YES", CPU_INT8: "NO" })).createInferRequest();
  const out = Object.keys(net.outputs)[0];
  const diff = () => ({ worst: 0, sum: 0, apart: 0 });
  const vsFp32 = diff();
  const vsOrt = diff();
  const vsEmulated = diff();
  const add = (d: ReturnType<typeof diff>, a: number, b: number) => {
    const v = Math.abs(a - b);
    d.worst = Math.max(d.worst, v);
    d.sum += v;
    if (v > 1e-5) d.apart++;
  };
  let total = 0;
  for (const n of [1, 2, 3, 4]) {
    const data = randomData(n * per, 900 + n);
    const ours = await run(int8, input, out, n, data);
    const ref = await run(fp32, input, out, n, data);
    const emu = await run(emulated, input, out, n, data);
    const theirs = (await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", data, [n, ...shape]) }))[
      session.outputNames[0]
    ].data as Float32Array;
    assert.equal(ours.length, theirs.length);
    for (let i = 0; i < ours.length; i++) {
      add(vsOrt, ours[i], theirs[i]);
      add(vsFp32, ours[i], ref[i]);
      add(vsEmulated, ours[i], emu[i]);
    }
    // Integer sums are exact: each sample's result does not depend on the batch it ran in.
    const each = ours.length / n;
    for (let s = 0; s < n; s++) {
      const one = await run(int8, input, out, 1, data.subarray(s * per, (s + 1) * per));
      one.forEach((v, i) => assert.ok(Math.abs(v - ours[s * each + i]) <= 1e-6, `batch ${n}, sample ${s}, point ${i}`));
    }
    total += ours.length;
  }
  const counts = Object.values(int8.getPerformanceCounts());
  const convs = counts.filter((c) => c.layerType === "Convolution" || c.layerType === "GroupConvolution");
  const VNNI = /vnni|bf16|amx/.test(loadAddon().cpuIsa());
  if (VNNI)
    assert.ok(
      convs.every((c) => c.precision === "U8"),
      JSON.stringify(convs),
    );
  // onnxruntime (its own int8 kernels), oneDNN's int8 and the FP32 emulation round the sums of a
  // layer in different orders: an activation a last bit from a rounding boundary may land one
  // level apart, which later layers carry to the points (normalized to [0, 1]) as a small shift.
  // Everything else agrees to float precision.
  for (const [what, d] of [
    ["onnxruntime", vsOrt],
    ["FP32 FakeQuantize", vsEmulated],
  ] as const) {
    assert.ok(d.worst <= 0.02, `max difference to ${what} ${d.worst}`);
    assert.ok(d.apart <= total / 2, `${d.apart} of ${total} points differ from ${what} by more than 1e-5`);
  }
  const mean = vsFp32.sum / total;
  assert.ok(mean <= 0.01, `mean point change against FP32 ${mean}`);
  t.diagnostic(
    `against FP32: mean |Δ| ${mean.toFixed(5)}, max ${vsFp32.worst.toFixed(5)}; against onnxruntime on the QDQ export: ` +
      `${vsOrt.apart} of ${total} beyond 1e-5, max ${vsOrt.worst.toExponential(2)}; against FP32 FakeQuantize: ` +
      `${vsEmulated.apart} of ${total} beyond 1e-5, max ${vsEmulated.worst.toExponential(2)}`,
  );
});

test("quantize: keepFp32 by name or type, and a percentile that narrows the activation limits", async () => {
  const { net, per } = await landmarks();
  const cal = calibration(per, 8);
  const firstConv = net.layers.find((l) => l.type === "Convolution")!.name;
  const kept = await net.quantize({ calibration: cal, keepFp32: [firstConv] });
  assert.ok(!kept.layers.some((l) => l.name === `${firstConv}/weights/fq`));
  const none = await net.quantize({ calibration: cal, keepFp32: ["Convolution", "GroupConvolution", "MatMul"] });
  assert.equal(none.layers.filter((l) => l.type === "FakeQuantize").length, 0);

  const high = async (q: CNNNetwork) => {
    const g = q.prepared(1);
    const fq = g.nodes.filter((n) => n.type === "FakeQuantize" && !n.name.endsWith("/weights/fq"));
    return fq.map((n) => g.nodes.find((c) => c.id === n.inputs[2].node)!.value!.data[0]);
  };
  const full = await high(await net.quantize({ calibration: cal }));
  const narrow = await high(await net.quantize({ calibration: cal, percentile: 99 }));
  assert.equal(full.length, narrow.length);
  // Each limit is the grid point nearest the range: within one level (1/255 of the range) of min/max's or below it.
  narrow.forEach((h, k) => assert.ok(h <= full[k] * (1 + 1 / 255) + 1e-6, `limit ${k}: ${h} > ${full[k]}`));
  assert.ok(
    narrow.some((h, k) => h < full[k] * 0.99),
    "no activation limit narrowed at the 99th percentile",
  );
});

test("quantize calibrates at the shapes the network was reshaped to, and keeps them", async () => {
  const { net, input, shape } = await landmarks();
  const big = [1, shape[0], shape[1] * 2, shape[2] * 2];
  net.reshape({ [input]: big });
  const q = await net.quantize({ calibration: calibration(numel(big), 4) });
  assert.deepEqual(q.inputs[input].shape, big);
  const out = Object.keys(net.outputs)[0];
  assert.deepEqual(q.outputs[out].shape, net.outputs[out].shape);
  // Limits from runs at the new size: every activation FakeQuantize got a real range (not the empty one, [0, 1]).
  const g = q.prepared(1);
  const highs = g.nodes
    .filter((n) => n.type === "FakeQuantize" && !n.name.endsWith("/weights/fq"))
    .map((n) => g.nodes.find((c) => c.id === n.inputs[2].node)!.value!.data[0]);
  assert.ok(highs.length > 0 && highs.every((h) => h !== 1), `${highs}`);
});

test("quantize: calibration of the wrong shape, too few samples or a bad percentile are BAD_INPUT naming the argument", async () => {
  const { net, per } = await landmarks();
  const cases: [Parameters<CNNNetwork["quantize"]>[0], RegExp][] = [
    [{ calibration: [new Float32Array(per - 1)] }, /calibration\[0\] must be a Float32Array of \d+ values/],
    [{ calibration: new Float32Array(per + 3) }, /calibration holds \d+ values, not a whole number of samples/],
    [{ calibration: calibration(per, 2), samples: 300 }, /samples is 300 but calibration holds only 2 sample/],
    [{ calibration: calibration(per, 2), percentile: 40 }, /percentile must be in \(50, 100\], got 40/],
  ];
  for (const [opts, pattern] of cases) {
    await assert.rejects(net.quantize(opts), (e: unknown) => {
      assert.ok(e instanceof DynbatchError, String(e));
      assert.equal(e.code, "BAD_INPUT");
      assert.match(e.message, pattern);
      return true;
    });
  }
});

test("quantize({ overflowFix }): 7-bit weights (129 levels) run int8 even without VNNI; their QDQ export agrees with onnxruntime", async () => {
  const { net, input, shape, per } = await landmarks();
  const q = await net.quantize({ calibration: calibration(per, 8), overflowFix: true });
  const g = q.prepared(1);
  const weightFqs = g.nodes.filter((n) => n.type === "FakeQuantize" && n.name.endsWith("/weights/fq"));
  assert.ok(weightFqs.length > 0 && weightFqs.every((n) => n.attrs.levels === "129"));
  const file = path.join(dir, "landmarks-7bit.onnx");
  q.serialize(file);
  const session = await ort.InferenceSession.create(file);
  q.batchSize = 2;
  const req = (await new IECore().loadNetwork(q, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const out = Object.keys(q.outputs)[0];
  const data = randomData(2 * per, 77);
  const ours = await run(req, input, out, 2, data);
  const theirs = (await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", data, [2, ...shape]) }))[
    session.outputNames[0]
  ].data as Float32Array;
  const worst = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i])), 0);
  assert.ok(worst <= 0.02, `max difference to onnxruntime ${worst}`);
  // Whatever the ISA (ONEDNN_MAX_CPU_ISA=AVX2 included), every convolution ran in int8.
  const convs = Object.values(req.getPerformanceCounts()).filter((c) => c.layerType.endsWith("Convolution"));
  assert.ok(convs.length > 0 && convs.every((c) => c.precision === "U8"), JSON.stringify(convs.map((c) => c.execType)));
});
