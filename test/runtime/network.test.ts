/** CNNNetwork: inputs/outputs, batchSize, reshape, layers, analyze. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore } from "../../kernel";
import { irPath, OPEN_CLOSED_EYE_ONNX, randomData } from "../helpers/models";

test("inputs and outputs carry shape, precision and layout", async () => {
  const net = await new IECore().readNetwork(irPath("head-pose-estimation-adas-0001"));
  // Null-prototype: keyed by names from the model.
  assert.equal(Object.getPrototypeOf(net.inputs), null);
  assert.deepEqual({ ...net.inputs }, { data: { shape: [1, 3, 60, 60], precision: "FP32", layout: "NCHW" } });
  // Outputs are keyed by the producing layer, as in the Inference Engine; Result names resolve too.
  assert.deepEqual(Object.keys(net.outputs).sort(), ["angle_p_fc", "angle_r_fc", "angle_y_fc"]);
  assert.deepEqual(net.outputs.angle_y_fc, { shape: [1, 1], precision: "FP32", layout: "NC" });
  assert.equal(net.name, "head-pose-estimation-adas-0001");
});

test("batchSize re-infers every shape; reshape changes any input dim", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
  assert.equal(net.batchSize, 1);
  net.batchSize = 3;
  assert.deepEqual(net.inputs.data.shape, [3, 3, 384, 672]);
  assert.deepEqual(net.outputs.detection_out.shape, [1, 1, 600, 7]);
  net.reshape({ data: [1, 3, 192, 336] });
  assert.equal(net.batchSize, 1);
  // Fewer priors on a smaller image: the folded PriorBox and DetectionOutput follow.
  const exec = await ie.loadNetwork(net, "CPU");
  const req = exec.createInferRequest();
  req.setInput("data", randomData(3 * 192 * 336));
  await req.infer();
  assert.deepEqual(req.getBlob("detection_out").shape, [1, 1, 200, 7]);
  assert.throws(() => net.reshape({ nope: [1] }), { code: "NOT_FOUND", message: /no input named 'nope'/ });
  assert.throws(() => net.reshape({ data: [1, 3, 0, 5] }), { code: "BAD_INPUT" });
  assert.throws(() => (net.batchSize = 0), { code: "BAD_INPUT" });
});

test("layers lists every layer as read; analyze never throws", async () => {
  const net = await new IECore().readNetwork(irPath("open-closed-eye-0001", "FP32"));
  const types = net.layers.map((l) => l.type);
  assert.equal(types.filter((t) => t === "Convolution").length, 4);
  assert.equal(types.filter((t) => t === "ReduceSum").length, 1);
  const strict = net.analyze({ mode: "strict" });
  assert.equal(strict.supported, false);
  assert.deepEqual(strict.summary.blocking, ["18"]);
  assert.equal(net.analyze().supported, true);
  assert.equal(net.analyze().mode, "shape-aware");
});

test("an ONNX model with a fixed batch can be given a larger one", async () => {
  const net = await new IECore().readNetwork(OPEN_CLOSED_EYE_ONNX);
  net.batchSize = 5;
  assert.deepEqual(net.inputs["input.1"].shape, [5, 3, 32, 32]);
  assert.deepEqual(net.outputs["19"].shape, [5, 2, 1, 1]);
});

test("getBlob of an input is a writable view; outputs have the batch's shape", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("open-closed-eye-0001"));
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  assert.deepEqual(exec.inputs["input.1"].shape, [4, 3, 32, 32]);
  const req = exec.createInferRequest();
  req.setBatch(2);
  const blob = req.getBlob("input.1");
  assert.deepEqual(blob.shape, [2, 3, 32, 32]);
  assert.equal(blob.size, 2 * 3 * 32 * 32);
  assert.equal(blob.layout, "NCHW");
  blob.data.set(randomData(blob.size));
  await req.infer();
  const out = req.getBlob("19");
  assert.deepEqual(out.shape, [2, 2, 1, 1]);
  // Softmax over the two classes: each sample sums to one.
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(out.data[2 * i] + out.data[2 * i + 1] - 1) < 1e-5);
});

test("CPU_THREADS_NUM=1 gives the same numbers as all threads", async () => {
  const run = async (threads: string) => {
    const ie = new IECore();
    const exec = await ie.loadNetwork(await ie.readNetwork(irPath("landmarks-regression-retail-0009")), "CPU", {
      CPU_THREADS_NUM: threads,
    });
    const req = exec.createInferRequest();
    req.setInput("0", randomData(3 * 48 * 48, 5));
    await req.infer();
    return Float32Array.from(req.getBlob("95").data);
  };
  const [one, all] = [await run("1"), await run("0")];
  for (let i = 0; i < one.length; i++) assert.ok(Math.abs(one[i] - all[i]) < 1e-5);
});

test("infer() leaves the event loop free: a callback queued after it starts runs before it resolves", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  // face-detection at batch 1 runs for tens of ms, far above the ~1 ms under which a run stays on
  // the JS thread by design; the first run and the measured ones after it must all go off it.
  for (let run = 0; run < 3; run++) {
    const done = req.infer();
    let ran = false;
    setImmediate(() => (ran = true));
    await done;
    // A run on this thread resolves before any macrotask; only a run off it lets the immediate in first.
    assert.ok(ran, `run ${run}: infer() resolved before a callback queued after it started`);
  }
});

/** Names that are members of Object.prototype: a plain object keyed by model names mistakes them for its own. */
const PROTO_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

async function runNamed(
  ie: IECore,
  model: string,
  input: string,
  output: string,
  layer: string,
  sample: number[],
): Promise<void> {
  const net = await ie.readNetwork(model);
  assert.deepEqual(Object.keys(net.inputs), [input]);
  assert.deepEqual(net.inputs[input].shape, [1, ...sample]);
  assert.ok(Object.keys(net.outputs).includes(output), `outputs ${Object.keys(net.outputs)} include ${output}`);
  // Lookups of the other names find nothing rather than Object.prototype's members.
  for (const other of PROTO_NAMES.filter((n) => n !== input)) assert.equal(net.inputs[other], undefined);
  net.batchSize = 2;
  assert.deepEqual(net.inputs[input].shape, [2, ...sample]);
  net.reshape({ [input]: [3, ...sample] });
  assert.equal(net.batchSize, 3);
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  assert.deepEqual(exec.inputs[input].shape, [3, ...sample]);
  assert.ok(exec.outputs[output]);
  const req = exec.createInferRequest();
  req.setBatch(2);
  const x = randomData(2 * sample.reduce((a, b) => a * b, 1), 7, -1, 1);
  req.setInput(input, x);
  await req.infer();
  assert.equal(req.getBlob(input).data.length, x.length);
  assert.deepEqual(req.getBlob(output).shape[0], 2);
  const counts = req.getPerformanceCounts();
  assert.ok(Object.prototype.hasOwnProperty.call(counts, layer), `perf counts name layer '${layer}'`);
  assert.equal(counts[layer].status, "EXECUTED");
}

test("inputs, outputs and layers named __proto__, constructor, toString, hasOwnProperty (ONNX, symbolic batch)", async () => {
  const { OnnxBuilder } = await import("../helpers/onnx_builder");
  const ie = new IECore();
  for (const [i, name] of PROTO_NAMES.entries()) {
    const out = PROTO_NAMES[(i + 1) % PROTO_NAMES.length];
    const b = new OnnxBuilder();
    b.input(name, [3, 4, 4]);
    const y = b.op("Relu", [name], {}, 1, out)[0];
    b.output(y);
    await runNamed(ie, b.save(), name, out, "Relu_0", [3, 4, 4]);
  }
});

test("inputs, outputs and layers named __proto__, constructor, toString, hasOwnProperty (IR, dynamic batch)", async () => {
  const fs = await import("fs");
  const os = await import("os");
  const path = await import("path");
  const src = irPath("open-closed-eye-0001", "FP32");
  const xml = fs.readFileSync(src, "utf8");
  const ie = new IECore();
  for (const [i, name] of PROTO_NAMES.entries()) {
    const out = PROTO_NAMES[(i + 1) % PROTO_NAMES.length];
    const layer = PROTO_NAMES[(i + 2) % PROTO_NAMES.length];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-names-"));
    fs.copyFileSync(src.replace(/\.xml$/, ".bin"), path.join(dir, "m.bin"));
    const renamed = xml
      .replace('name="input.1" type="Parameter"', `name="${name}" type="Parameter"`)
      .replace('names="input.1"', `names="${name}"`)
      .replace('shape="1,3,32,32"', 'shape="?,3,32,32"')
      .replace('<layer id="25" name="19"', `<layer id="25" name="${layer}"`)
      .replace('precision="FP32" names="19"', `precision="FP32" names="${out}"`);
    fs.writeFileSync(path.join(dir, "m.xml"), renamed);
    await runNamed(ie, path.join(dir, "m.xml"), name, out, layer, [3, 32, 32]);
  }
});
