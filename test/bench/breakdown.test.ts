/**
 * The per-layer breakdowns of missed targets: onnxruntime profile parsing on hand-made traces,
 * the plan per missed target, the text table, and both engines on the bundled eye model.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { IECore } from "../../kernel";
import { dynbatchBreakdown, formatBreakdown, ortBreakdown, ortLayers, planBreakdowns } from "../../kernel/bench/breakdown";
import { TargetResult } from "../../kernel/bench";
import { parseArgs } from "../../kernel/cli/bench";

const EYE = path.resolve(__dirname, "../../../models/open-closed-eye-0001/FP32/open-closed-eye-0001.xml");

const run = (ts: number, dur: number) => ({ cat: "Session", name: "model_run", ts, dur });
const node = (name: string, ts: number, dur: number, op = "Conv") => ({
  cat: "Node",
  name: `${name}_kernel_time`,
  ts,
  dur,
  args: { op_name: op, provider: "CPUExecutionProvider" },
});

test("ortLayers: node times per timed run, warm-up runs and fences left out, medians per node", () => {
  const events = [
    run(0, 100),
    node("conv", 10, 1000), // warm-up run: ignored
    run(200, 50),
    node("conv", 210, 30),
    node("relu", 240, 5, "Relu"),
    { cat: "Node", name: "conv_fence_before", ts: 209, dur: 0 },
    run(300, 70),
    node("conv", 310, 40),
    node("relu", 350, 9, "Relu"),
    run(400, 90),
    node("conv", 410, 60),
    // relu absent from this run: counted as 0 there
  ];
  const { wallUs, layers } = ortLayers(events, 1);
  assert.equal(wallUs, 70);
  const byName = Object.fromEntries(layers.map((l) => [l.name, l]));
  assert.deepEqual(Object.keys(byName).sort(), ["conv", "relu"]);
  assert.equal(byName.conv.us, 40);
  assert.equal(byName.relu.us, 5);
  assert.equal(byName.relu.type, "Relu");
  assert.equal(byName.conv.impl, "CPUExecutionProvider");
});

const missed = (target: TargetResult["target"], model: string, batch: number, met = false): TargetResult => ({
  target,
  model,
  batch,
  value: 1,
  limit: 1,
  bound: "max",
  met,
});

test("planBreakdowns: one plan per missed model and batch, with the engines that explain each target", () => {
  const plans = planBreakdowns([
    missed("latency-vs-ort", "a", 1),
    missed("dynamic-over-static", "a", 1),
    missed("throughput-vs-ort", "a", 16, true),
    missed("fraction-of-peak", "fd", 1),
  ]);
  assert.deepEqual(plans, [
    { model: "a", batch: 1, engines: ["dynbatch dynamic", "onnxruntime", "dynbatch static"] },
    { model: "fd", batch: 1, engines: ["dynbatch static"] },
  ]);
});

test("formatBreakdown: the header's totals and the top rows, slowest first, with their share of the request", () => {
  const lines = formatBreakdown(
    {
      engine: "onnxruntime",
      model: "m",
      batch: 4,
      wallUs: 200,
      layersUs: 150,
      layers: [
        { name: "c1", type: "Conv", impl: "CPUExecutionProvider", us: 100 },
        { name: "r1", type: "Relu", impl: "CPUExecutionProvider", us: 50 },
      ],
    },
    1,
  );
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^onnxruntime, m n=4: request 200 µs, layers 150 µs \(2 layers with time\), outside layers 50\.0 µs; top 1:$/,
  );
  assert.match(lines[1], /100 µs +50\.0% +CPUExecutionProvider +Conv +c1$/);
});

test("dynbatchBreakdown and ortBreakdown profile the same model: its layers, slowest first, summing to the layers total", async () => {
  const ie = new IECore();
  const o = { model: "eye", file: EYE, batch: 2, threads: 1, runs: 3 };
  const net = await ie.readNetwork(EYE);
  const names = new Set(net.graph.nodes.map((n) => n.name));
  for (const b of [await dynbatchBreakdown(ie, o, 4), await dynbatchBreakdown(ie, o)]) {
    assert.equal(b.batch, 2);
    assert.ok(b.layers.length > 3 && b.wallUs > 0);
    assert.ok(b.layers.some((l) => l.type === "Convolution"));
    // Every layer is one of the model's, or a reorder the plugin added in front of one.
    for (const l of b.layers) assert.ok(names.has(l.name.replace(/\/reorder_\w+$/, "")), l.name);
    for (let i = 1; i < b.layers.length; i++) assert.ok(b.layers[i - 1].us >= b.layers[i].us);
    assert.ok(Math.abs(b.layers.reduce((s, l) => s + l.us, 0) - b.layersUs) < 1e-6);
  }
  assert.equal((await dynbatchBreakdown(ie, o, 4)).engine, "dynbatch dynamic");
  const ort = await ortBreakdown(ie, o);
  assert.ok(ort);
  assert.equal(ort.engine, "onnxruntime");
  assert.ok(ort.layers.filter((l) => l.type === "Conv").length >= 3, JSON.stringify(ort.layers));
  assert.ok(ort.wallUs > 0);
});

test("bench --no-breakdown turns the breakdowns off; they are on by default", () => {
  assert.equal(parseArgs([]).breakdown, true);
  assert.equal(parseArgs(["--no-breakdown"]).breakdown, false);
});
