/**
 * Custom layers (ie.addExtension): a model with an op dynbatch does not know still reads and says
 * which addExtension call would load it; with the extension, the shape-aware analysis trusts its
 * declared batch behaviour, strict analysis refuses it, and the network runs on CPU with the
 * callback between native segments. The oracle is onnxruntime on the same model with the custom
 * op written out in standard ONNX ops.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { DynamicBatchError, Extension, ExtensionError, IECore, ShapeError, UnsupportedError } from "../../kernel";
import { irPath, maxRelDiff, numel, randomData } from "../helpers/models";
import { SAMPLE, model, myNorm } from "../helpers/extension_models";

test("an unknown op still reads; analysis blocks on it; loadNetwork names the op and the addExtension call", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(model(false));
  assert.ok(net.layers.some((l) => l.type === "MyNorm"));
  const report = net.analyze();
  assert.equal(report.supported, false);
  const layer = report.layers.find((l) => l.type === "MyNorm")!;
  assert.equal(layer.verdict, "unsupported");
  assert.match(layer.reason, /addExtension/);
  await assert.rejects(
    ie.loadNetwork(net, "CPU"),
    (e: unknown) =>
      e instanceof UnsupportedError &&
      /operation MyNorm is not supported; ie\.addExtension\(\{ type: "MyNorm", domain: "my\.ops", inferShape, batch, compute \}\)/.test(
        e.message,
      ),
  );
});

test("a batch-independent extension: shape-aware trusts it, strict refuses it, runs batched and equals onnxruntime", async (t) => {
  const ie = new IECore();
  const seen: number[] = [];
  ie.addExtension(myNorm(seen));
  const file = model(false);
  const net = await ie.readNetwork(file);
  const layer = net.analyze().layers.find((l) => l.type === "MyNorm")!;
  assert.equal(layer.verdict, "supported");
  assert.match(layer.reason, /^declared batch-independent by its extension 'my\.ops:MyNorm'/);
  assert.equal(net.analyze().supported, true);
  const strict = net.analyze({ mode: "strict" });
  assert.equal(strict.supported, false);
  assert.ok(strict.summary.blocking.includes(layer.name));

  net.batchSize = 4;
  const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const session = await ort.InferenceSession.create(model(true));
  const out = Object.keys(net.outputs)[0];
  let worst = 0;
  for (const n of [1, 2, 3, 4]) {
    req.setBatch(n);
    const data = randomData(n * numel(SAMPLE), 80 + n, -2, 2);
    req.setInput("x", data);
    req.getBlob(out).data.fill(NaN);
    await req.infer();
    const want = await session.run({ x: new ort.Tensor("float32", data, [n, ...SAMPLE]) });
    const wantOut = want[Object.keys(want)[0]];
    assert.deepEqual(req.getBlob(out).shape, wantOut.dims.map(Number));
    const err = maxRelDiff(req.getBlob(out).data, wantOut.data as Float32Array);
    assert.ok(err <= 1e-5, `n=${n}: max error ${err}`);
    worst = Math.max(worst, err);
  }
  t.diagnostic(`max error ${worst}`);
  // One call per run, with all n samples at once.
  assert.deepEqual(seen, [1, 2, 3, 4]);
  const counts = req.getPerformanceCounts();
  assert.equal(counts[layer.name].execType, "custom");
  assert.equal(counts[layer.name].status, "EXECUTED");
});

test("an extension that mixes samples blocks a dynamic batch but runs at a static one", async () => {
  const ie = new IECore();
  ie.addExtension(myNorm([], "mixes"));
  const net = await ie.readNetwork(model(false));
  const layer = net.analyze().layers.find((l) => l.type === "MyNorm")!;
  assert.equal(layer.verdict, "unsupported");
  assert.match(layer.reason, /declared by its extension 'my\.ops:MyNorm' to mix samples/);
  await assert.rejects(ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" }), DynamicBatchError);
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  await req.infer();
});

test("bad extensions: malformed, inferShape throwing or returning the wrong number of shapes, compute of the wrong length", async () => {
  const ie = new IECore();
  const good = myNorm([]);
  assert.throws(
    () => ie.addExtension({ ...good, batch: "maybe" as never }),
    (e: unknown) => e instanceof ExtensionError && /batch/.test(e.message),
  );
  assert.throws(() => ie.addExtension({ ...good, compute: 1 as never }), /`compute` must be a function/);
  assert.throws(() => ie.addExtension({ ...good, type: "Convolution" }), /built-in op/);
  ie.addExtension(good);
  assert.throws(() => ie.addExtension(good), /already registered/);

  const named = (type: string, ext: Partial<Extension>) => {
    const ie2 = new IECore();
    ie2.addExtension({ ...good, type, ...ext });
    return ie2;
  };
  const throwing = named("Thrower", {
    inferShape: () => {
      throw new Error("no idea");
    },
  });
  await assert.rejects(
    throwing.readNetwork(model(false, "Thrower")),
    (e: unknown) =>
      e instanceof ShapeError &&
      /extension 'my\.ops:Thrower': inferShape threw: no idea/.test(e.message) &&
      e.layer !== undefined,
  );
  const wrongCount = named("TwoOut", { inferShape: (i) => [i[0], i[0]] });
  await assert.rejects(wrongCount.readNetwork(model(false, "TwoOut")), /inferShape must return 1 shape\(s\)/);
  const wrongLength = named("Short", { compute: () => [new Float32Array(3)] });
  const req = (await wrongLength.loadNetwork(await wrongLength.readNetwork(model(false, "Short")), "CPU")).createInferRequest();
  await assert.rejects(
    req.infer(),
    (e: unknown) =>
      e instanceof ExtensionError &&
      /my\.ops:Short.*compute returned a Float32Array of 3 values for output 0; expected a Float32Array of 48 values \[1,3,4,4\]/.test(
        e.message,
      ),
  );
});

test("an IR layer of a custom type and version runs through its extension, equal to the built-in op it replaces", async () => {
  const original = irPath("open-closed-eye-0001", "FP32");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-ext-ir-"));
  const xml = path.join(dir, "m.xml");
  fs.writeFileSync(
    xml,
    fs.readFileSync(original, "utf8").replace('type="Exp" version="opset1"', 'type="MyExp" version="my_opset"'),
  );
  fs.copyFileSync(original.replace(/\.xml$/, ".bin"), path.join(dir, "m.bin"));
  const run = async (file: string, ie: IECore) => {
    const net = await ie.readNetwork(file);
    net.batchSize = 4;
    const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const outs: Float32Array[] = [];
    for (const n of [1, 4]) {
      req.setBatch(n);
      req.setInput("input.1", randomData(n * 3 * 32 * 32, 5 + n));
      req.getBlob("19").data.fill(NaN);
      await req.infer();
      outs.push(Float32Array.from(req.getBlob("19").data));
    }
    return outs;
  };
  const ie = new IECore();
  // The domain must match the layer's version: another one leaves the layer unimplemented.
  ie.addExtension({
    type: "MyExp",
    domain: "other_opset",
    inferShape: (i) => [i[0]],
    batch: "independent",
    compute: () => undefined,
  });
  assert.equal((await ie.readNetwork(xml)).runnable, false);
  await assert.rejects(run(xml, ie), /operation MyExp is not supported; ie\.addExtension\(\{ type: "MyExp", domain: "my_opset"/);
  ie.addExtension({
    type: "MyExp",
    domain: "my_opset",
    inferShape: (i) => [i[0]],
    batch: "independent",
    compute: ([x], _attrs, [y]) => x.forEach((v, i) => (y[i] = Math.exp(v))),
  });
  const [custom, builtIn] = [await run(xml, ie), await run(original, new IECore())];
  // The IR declares the layer's output dims: a shape rule of another rank is refused at read, naming it.
  const wrongRank = new IECore();
  wrongRank.addExtension({
    type: "MyExp",
    domain: "my_opset",
    inferShape: (i) => [i[0].slice(1)],
    batch: "mixes",
    compute: () => undefined,
  });
  await assert.rejects(
    wrongRank.readNetwork(xml),
    (e: unknown) =>
      e instanceof ShapeError &&
      e.layer === "17" &&
      /'my_opset:MyExp': inferShape returned rank \d for output 0, the model declares rank \d/.test(e.message),
  );
  custom.forEach((c, i) => assert.ok(maxRelDiff(c, builtIn[i]) <= 1e-6, `run ${i}: ${maxRelDiff(c, builtIn[i])}`));
});

test("two requests in flight each keep their own values across the cut", async () => {
  const ie = new IECore();
  ie.addExtension(myNorm([]));
  const net = await ie.readNetwork(model(false));
  net.batchSize = 2;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const out = Object.keys(net.outputs)[0];
  const inputs = [randomData(2 * numel(SAMPLE), 7, -2, 2), randomData(2 * numel(SAMPLE), 8, -2, 2)];
  const alone: Float32Array[] = [];
  for (const x of inputs) {
    const req = exec.createInferRequest();
    req.setInput("x", x);
    await req.infer();
    alone.push(Float32Array.from(req.getBlob(out).data));
  }
  const reqs = inputs.map((x) => {
    const req = exec.createInferRequest();
    req.setInput("x", x);
    return req;
  });
  await Promise.all(reqs.map((r) => r.infer()));
  reqs.forEach((r, i) => assert.deepEqual(Float32Array.from(r.getBlob(out).data), alone[i]));
});
