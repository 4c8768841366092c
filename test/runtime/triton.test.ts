/**
 * exportTriton: config.pbtxt parsed back (a small protobuf text-format reader below, independent of
 * the writer) and checked field by field against the network and the written model file; the
 * exported ONNX run by onnxruntime at batches 1..maxBatch equals dynbatch; refusals write nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { CNNNetwork, IECore, InputError, ModelError, recommendBatching, TritonExportError } from "../../kernel";
import type { LatencyReport } from "../../kernel";
import { irPath, maxAbsDiff, randomData } from "../helpers/models";
import { GraphBuilder } from "../helpers/graph_builder";

const ie = new IECore();
ie.setConfig({ DYN_BATCH_ENABLED: "YES" }, "CPU");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-triton-"));

type PbValue = string | number | PbMessage;
interface PbMessage {
  [field: string]: PbValue[];
}

/** Protobuf text format, as much as a model config uses: fields, nested messages, lists, strings, numbers, enums, # comments. */
function parsePbtxt(text: string): PbMessage {
  const tokens = text.replace(/#[^\n]*/g, "").match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,"]+/g) ?? [];
  let i = 0;
  const scalar = (t: string): PbValue => (t.startsWith('"') ? (JSON.parse(t) as string) : /^-?\d/.test(t) ? Number(t) : t);
  const value = (): PbValue[] => {
    const t = tokens[i++];
    if (t === "{") return [message("}")];
    if (t !== "[") return [scalar(t)];
    const list: PbValue[] = [];
    while (tokens[i] !== "]") {
      if (tokens[i] === ",") i++;
      else list.push(...value());
    }
    i++;
    return list;
  };
  const message = (end: string | undefined): PbMessage => {
    const m: PbMessage = {};
    while (i < tokens.length && tokens[i] !== end) {
      const field = tokens[i++];
      if (tokens[i] === ":") i++;
      (m[field] ??= []).push(...value());
    }
    i++;
    return m;
  };
  return message(undefined);
}

const one = (m: PbMessage, f: string) => {
  assert.equal(m[f]?.length, 1, `exactly one '${f}'`);
  return m[f][0];
};

test("exportTriton (onnxruntime): config.pbtxt matches the model; onnxruntime runs the export at batches 1..maxBatch like dynbatch", async () => {
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  const dir = tmp();
  const out = await net.exportTriton(dir, { name: "landmarks", maxBatch: 4, backend: "onnxruntime", delayUs: 500 });
  const modelDir = path.join(dir, "landmarks");
  assert.deepEqual(out.files, [path.join(modelDir, "config.pbtxt"), path.join(modelDir, "1", "model.onnx")]);
  const cfg = parsePbtxt(fs.readFileSync(out.files[0], "utf8"));
  assert.deepEqual(Object.keys(cfg).sort(), ["backend", "dynamic_batching", "input", "max_batch_size", "name", "output"]);
  assert.equal(one(cfg, "name"), "landmarks");
  assert.equal(one(cfg, "backend"), "onnxruntime");
  assert.equal(one(cfg, "max_batch_size"), 4);
  const batching = one(cfg, "dynamic_batching") as PbMessage;
  assert.deepEqual(batching, { max_queue_delay_microseconds: [500] }, "no preferred_batch_size unless asked");

  const session = await ort.InferenceSession.create(out.files[1]);
  const inputs = cfg.input as PbMessage[];
  const outputs = cfg.output as PbMessage[];
  assert.deepEqual(
    inputs.map((t) => one(t, "name")),
    [...session.inputNames],
  );
  assert.deepEqual(
    outputs.map((t) => one(t, "name")),
    [...session.outputNames],
  );
  const [inName, inPort] = Object.entries(net.inputs)[0];
  assert.deepEqual(inputs[0].dims, inPort.shape.slice(1));
  assert.deepEqual(
    outputs.map((t) => t.dims),
    Object.values(net.outputs).map((p) => p.shape.slice(1)),
  );
  for (const t of [...inputs, ...outputs]) assert.equal(one(t, "data_type"), "TYPE_FP32");

  net.batchSize = 4;
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  const sample = inPort.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let n = 1; n <= 4; n++) {
    const x = randomData(n * sample, n);
    req.setBatch(n);
    req.setInput(inName, x);
    await req.infer();
    const got: Record<string, ort.Tensor> = await session.run({
      [session.inputNames[0]]: new ort.Tensor("float32", x, [n, ...(inputs[0].dims as number[])]),
    });
    const ours = req.getBlob(Object.keys(net.outputs)[0]).data;
    const theirs: ort.Tensor = got[session.outputNames[0]];
    assert.deepEqual(theirs.dims, [n, ...(outputs[0].dims as number[])]);
    assert.ok(maxAbsDiff(ours, theirs.data as Float32Array) < 1e-4, `batch ${n}`);
  }
});

test("exportTriton (openvino): model.xml/model.bin, and the config's names and dims are the IR's", async () => {
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  const dir = tmp();
  const out = await net.exportTriton(dir, { name: "lm_ov", maxBatch: 8, backend: "openvino", preferredBatchSizes: [4, 8] });
  assert.deepEqual(
    out.files.map((f) => path.relative(dir, f)),
    ["lm_ov/config.pbtxt", "lm_ov/1/model.xml", "lm_ov/1/model.bin"],
  );
  const cfg = parsePbtxt(out.config);
  assert.equal(one(cfg, "backend"), "openvino");
  assert.equal(one(cfg, "max_batch_size"), 8);
  assert.deepEqual(one(cfg, "dynamic_batching"), { preferred_batch_size: [4, 8], max_queue_delay_microseconds: [100] });
  const back = await ie.readNetwork(out.files[1]);
  const exec = await ie.loadNetwork(back, "CPU");
  const req = exec.createInferRequest();
  for (const t of [...(cfg.input as PbMessage[]), ...(cfg.output as PbMessage[])]) {
    // Each name the config gives resolves in the IR, with the dims after the batch.
    assert.deepEqual(req.getBlob(one(t, "name") as string).shape.slice(1), t.dims);
  }
});

/** [1,8] → Reshape [1,8] (hard-codes the batch) → out. */
function pinned(): CNNNetwork {
  const b = new GraphBuilder("pinned");
  b.result(b.op("Reshape", [b.param("x", [1, 8]), b.ints([1, 8])], { special_zero: false }, { name: "pin" }), "out");
  return new CNNNetwork(b.build());
}

test("exportTriton refuses a network whose batch is not independent, naming the layer and suggesting fixForDynamicBatch(); the fixed one exports", async () => {
  const dir = tmp();
  await assert.rejects(pinned().exportTriton(dir, { name: "m", maxBatch: 4 }), (e: unknown) => {
    assert.ok(e instanceof TritonExportError);
    assert.equal(e.code, "DYN_BATCH_UNSUPPORTED_TOPOLOGY");
    assert.ok(e.layers.some((l) => l.name === "pin"));
    assert.match(e.message, /fixForDynamicBatch\(\)/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), [], "nothing written");
  const { network } = await pinned().fixForDynamicBatch();
  const out = await network.exportTriton(dir, { name: "m", maxBatch: 4 });
  assert.deepEqual((parsePbtxt(out.config).input as PbMessage[])[0].dims, [8]);
});

test("exportTriton: bad names, batches, delays and a non-empty directory are typed errors and write nothing", async () => {
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  const dir = tmp();
  for (const name of ["a/b", "..", "", "a\\b"])
    await assert.rejects(net.exportTriton(dir, { name, maxBatch: 2 }), InputError, JSON.stringify(name));
  for (const maxBatch of [0, 1.5, 1e12])
    await assert.rejects(net.exportTriton(dir, { name: "m", maxBatch }), /maxBatch must be an integer in \[1;\d+\]/);
  await assert.rejects(net.exportTriton(dir, { name: "m", maxBatch: 2, delayUs: -1 }), InputError);
  await assert.rejects(net.exportTriton(dir, { name: "m", maxBatch: 2, preferredBatchSizes: [3] }), InputError);
  assert.deepEqual(fs.readdirSync(dir), []);

  fs.mkdirSync(path.join(dir, "m"));
  fs.writeFileSync(path.join(dir, "m", "keep.txt"), "x");
  await assert.rejects(net.exportTriton(dir, { name: "m", maxBatch: 2 }), /exists and is not empty; pass overwrite: true/);
  assert.deepEqual(fs.readdirSync(path.join(dir, "m")), ["keep.txt"]);
  await net.exportTriton(dir, { name: "m", maxBatch: 2, overwrite: true });
  assert.deepEqual(fs.readdirSync(path.join(dir, "m")).sort(), ["1", "config.pbtxt"]);

  const b = new GraphBuilder("scalar");
  b.result(b.op("Add", [b.param("s", []), b.constant([1], [], "f32")], { auto_broadcast: "numpy" }), "out");
  await assert.rejects(new CNNNetwork(b.build()).exportTriton(dir, { name: "s", maxBatch: 2 }), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.match(e.message, /input 's' is a scalar/);
    return true;
  });
  assert.ok(!fs.existsSync(path.join(dir, "s")));
});

/** A sweep whose throughput saturates at batch 8 (8 → 16 gains 2%) and whose latency doubles from batch 4 to 8. */
function sweep(): LatencyReport {
  const p50 = { 1: 1.0, 2: 1.2, 4: 1.45, 8: 2.9, 16: 5.7 } as Record<number, number>;
  const points = Object.entries(p50).map(([b, ms]) => ({
    batch: Number(b),
    mode: "dynamic" as const,
    latencyMs: { p50: ms, p90: ms, min: ms, max: ms },
    throughput: (Number(b) / ms) * 1000,
  }));
  return { model: "lm\nmax_batch_size: 99", device: "CPU", limit: 16, points: [...points, { ...points[0], mode: "loop" }] };
}

test("recommendBatching: throughput takes the knee of the curve, latency the largest batch within 1.5× batch 1", () => {
  const t = recommendBatching(sweep(), "throughput");
  // Throughputs: 1000, 1667, 2759, 2759, 2807 samples/s: batch 4 is within 95% of the best.
  assert.equal(t.maxBatch, 4);
  assert.equal(t.delayUs, 1450);
  const l = recommendBatching(sweep(), "latency");
  assert.equal(l.maxBatch, 4);
  assert.equal(l.delayUs, 100);
  const flat = sweep();
  flat.points = flat.points.map((p) => ({ ...p, latencyMs: { ...p.latencyMs, p50: 1 }, throughput: p.batch * 1000 }));
  assert.equal(recommendBatching(flat, "throughput").maxBatch, 16);
  assert.equal(recommendBatching(flat, "latency").maxBatch, 16);
  assert.throws(() => recommendBatching({ ...sweep(), points: [] }, "latency"), InputError);
  assert.throws(() => recommendBatching(sweep(), "fast" as "latency"), InputError);
});

test("exportTriton with recommend: max_batch_size and the delay come from the sweep, recorded as comments", async () => {
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  const dir = tmp();
  const out = await net.exportTriton(dir, { name: "lm", recommend: "throughput", latency: sweep() });
  const cfg = parsePbtxt(out.config);
  assert.equal(one(cfg, "max_batch_size"), 4);
  assert.deepEqual(one(cfg, "dynamic_batching"), { max_queue_delay_microseconds: [1450] });
  const comments = out.config.split("\n").filter((l) => l.startsWith("#"));
  assert.match(comments.join("\n"), /recommend: "throughput"/);
  assert.match(comments.join("\n"), /batch 8: p50 2\.900 ms, 2758\.6 samples\/s/);
  // The model name's line break stays inside its comment.
  assert.ok(!out.config.split("\n").some((l) => l.startsWith("max_batch_size: 99")));
  const given = await net.exportTriton(dir, { name: "lm2", recommend: "latency", latency: sweep(), maxBatch: 2 });
  assert.equal(one(parsePbtxt(given.config), "max_batch_size"), 2);
  assert.match(given.config, /maxBatch given by the caller/);
  await assert.rejects(net.exportTriton(dir, { name: "lm3", recommend: "latency" }), /needs latency: a LatencyReport/);
});
