#!/usr/bin/env node
// CPU plugin latency probe for engine work (not the benchmark suite, see `npm run bench`):
// median infer() latency per model and batch for a dynamic network (max 32, setBatch(n)), a
// static network compiled for n and, for ONNX models, onnxruntime-node; contenders interleave
// point by point. Needs `npm run build` first.
//   node scripts/cpu-perf.js [--models a,b] [--batches 1,4,16,32] [--seconds 1.5] [--json out.json]
//                            [--base dir]   (also time the build in another checkout, e.g. the last commit's)
//                            [--profile]    (print the slowest layers of the static network per point)
//                            [--save dir]   (keep the generated ONNX models there)
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const ROOT = path.join(__dirname, "..");
const BASE = opt("base");
const { IECore } = require(path.join(ROOT, "dist/kernel"));
const { OnnxBuilder } = require(path.join(ROOT, "dist/test/helpers/onnx_builder"));
const { randomData } = require(path.join(ROOT, "dist/test/helpers/models"));
const ort = require("onnxruntime-node");

const BATCHES = opt("batches", "1,4,16,32").split(",").map(Number);
const SECONDS = Number(opt("seconds", "1.5"));
const MAX = Math.max(...BATCHES);
const tmp = opt("save") ?? fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-perf-"));

/** ResNet-18-shaped: 7x7/2 stem, max pool, 4 stages of two basic blocks, global pool, FC. */
function resnet18(size) {
  const b = new OnnxBuilder(13);
  let flops = 0;
  let h = size;
  const conv = (x, cin, cout, k, s, relu, residual) => {
    const pad = (k - 1) >> 1;
    h = Math.floor((h + 2 * pad - k) / s) + 1;
    flops += 2 * cin * cout * k * k * h * h;
    const w = b.weight([cout, cin, k, k], -Math.sqrt(6 / (cin * k * k)), Math.sqrt(6 / (cin * k * k)));
    let y = b.op1("Conv", [x, w, b.weight([cout], -0.1, 0.1)], {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [pad, pad, pad, pad],
    });
    y = b.op1("BatchNormalization", [
      y,
      b.weight([cout], 0.5, 1.5),
      b.weight([cout], -0.1, 0.1),
      b.weight([cout], -0.1, 0.1),
      b.weight([cout], 0.5, 1.5),
    ]);
    if (residual) y = b.op1("Add", [y, residual]);
    return relu ? b.op1("Relu", [y]) : y;
  };
  let x = conv(b.input("x", [3, size, size]), 3, 64, 7, 2, true);
  x = b.op1("MaxPool", [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  h = Math.floor((h + 2 - 3) / 2) + 1;
  let c = 64;
  for (const [cout, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ]) {
    for (let blk = 0; blk < 2; blk++) {
      const s = blk === 0 ? stride : 1;
      const hIn = h;
      const y = conv(x, c, cout, 3, s, true);
      const hOut = h;
      let shortcut = x;
      if (s !== 1 || c !== cout) {
        h = hIn;
        shortcut = conv(x, c, cout, 1, s, false);
      }
      h = hOut;
      x = conv(y, cout, cout, 3, 1, true, shortcut);
      c = cout;
    }
  }
  x = b.op1("GlobalAveragePool", [x]);
  x = b.op1("Flatten", [x], { axis: 1 });
  flops += 2 * 512 * 1000;
  x = b.op1("Gemm", [x, b.weight([1000, 512], -0.05, 0.05), b.weight([1000], -0.1, 0.1)], { transB: 1 });
  b.output(x);
  return { file: b.save(tmp), flops };
}

/** MobileNetV2-shaped: inverted residual blocks with depthwise 3x3 convs and ReLU6 (Clip). */
function mobilenetV2(size) {
  const b = new OnnxBuilder(13);
  let flops = 0;
  let h = size;
  const clip = (y) => b.op1("Clip", [y, b.weight([], 0, 0, [0]), b.weight([], 0, 0, [6])]);
  const conv = (x, cin, cout, k, s, group, act) => {
    const pad = (k - 1) >> 1;
    h = Math.floor((h + 2 * pad - k) / s) + 1;
    flops += (2 * cin * cout * k * k * h * h) / group;
    const fan = (cin / group) * k * k;
    const w = b.weight([cout, cin / group, k, k], -Math.sqrt(6 / fan), Math.sqrt(6 / fan));
    let y = b.op1("Conv", [x, w, b.weight([cout], -0.1, 0.1)], {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [pad, pad, pad, pad],
      group,
    });
    return act ? clip(y) : y;
  };
  let x = conv(b.input("x", [3, size, size]), 3, 32, 3, 2, 1, true);
  let c = 32;
  const cfg = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, cout, reps, stride] of cfg) {
    for (let i = 0; i < reps; i++) {
      const s = i === 0 ? stride : 1;
      const hidden = c * t;
      const hIn = h;
      let y = t === 1 ? x : conv(x, c, hidden, 1, 1, 1, true);
      y = conv(y, hidden, hidden, 3, s, hidden, true);
      y = conv(y, hidden, cout, 1, 1, 1, false);
      if (s === 1 && c === cout) y = b.op1("Add", [y, x]);
      void hIn;
      x = y;
      c = cout;
    }
  }
  x = conv(x, c, 1280, 1, 1, 1, true);
  x = b.op1("GlobalAveragePool", [x]);
  x = b.op1("Flatten", [x], { axis: 1 });
  flops += 2 * 1280 * 1000;
  x = b.op1("Gemm", [x, b.weight([1000, 1280], -0.05, 0.05), b.weight([1000], -0.1, 0.1)], { transB: 1 });
  b.output(x);
  return { file: b.save(tmp), flops };
}

/** One Relu on [N, 4]: what a call costs when the network does nothing. */
function trivial() {
  const b = new OnnxBuilder(13);
  b.output(b.op1("Relu", [b.input("x", [4])]));
  return { file: b.save(tmp), flops: 0 };
}

const BUNDLED = [
  "landmarks-regression-retail-0009",
  "head-pose-estimation-adas-0001",
  "open-closed-eye-0001",
  "face-detection-adas-0001",
];
const MODELS = {
  trivial: () => trivial(),
  resnet18: () => resnet18(224),
  mobilenetv2: () => mobilenetV2(224),
  "open-closed-eye-0001-onnx": () => ({
    file: path.join(ROOT, "models/open-closed-eye-0001/onnx/open-closed-eye.onnx"),
    flops: 0,
  }),
};
for (const m of BUNDLED) MODELS[m] = () => ({ file: path.join(ROOT, `models/${m}/FP16/${m}.xml`), flops: 0 });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function contenders(name, file, Core = IECore, tag = "") {
  const ie = new Core();
  const out = [];
  const input = async (net) => Object.keys((await ie.loadNetwork(net, "CPU")).inputs)[0];
  const netDyn = await ie.readNetwork(file);
  let dyn = null;
  try {
    netDyn.batchSize = MAX;
    const exec = await ie.loadNetwork(netDyn, "CPU", { DYN_BATCH_ENABLED: "YES" });
    dyn = exec.createInferRequest();
  } catch (e) {
    console.error(`${name}: no dynamic batch (${e.code})`);
  }
  const first = await input(await ie.readNetwork(file));
  for (const n of BATCHES) {
    const net = await ie.readNetwork(file);
    net.batchSize = n;
    const exec = await ie.loadNetwork(net, "CPU");
    const req = exec.createInferRequest();
    const shape = exec.inputs[first].shape;
    const data = randomData(
      shape.reduce((a, b) => a * b, 1),
      7,
      0,
      1,
    );
    req.setInput(first, data);
    const point = { n, shape, data, runs: {}, req };
    point.runs[`static${tag}`] = async () => req.infer();
    if (dyn) {
      point.runs[`dynamic${tag}`] = async () => {
        dyn.setBatch(n);
        dyn.setInput(first, data);
        await dyn.infer();
      };
    }
    out.push(point);
  }
  let onnx = file;
  if (file.endsWith(".xml") && !tag) {
    // ORT runs the IR model as exported by CNNNetwork.serialize (symbolic batch when it allows one).
    onnx = path.join(tmp, `${name}.onnx`);
    try {
      (await ie.readNetwork(file)).serialize(onnx);
    } catch (e) {
      console.error(`${name}: no ONNX export (${e.message})`);
      onnx = "";
    }
  }
  if (onnx.endsWith(".onnx") && !tag) {
    const session = await ort.InferenceSession.create(onnx, {
      intraOpNumThreads: 2,
      extra: { session: { force_spinning_stop: "1" } },
    });
    for (const p of out) {
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", p.data, p.shape) };
      // A model with a fixed batch in its file runs on ORT only at that batch.
      const ok = await session.run(feeds).then(
        () => true,
        () => false,
      );
      if (ok) p.runs.ort = async () => session.run(feeds);
    }
  }
  return { out, ie };
}

async function measure(name) {
  const { file, flops } = MODELS[name]();
  const { out } = await contenders(name, file);
  if (BASE) {
    const base = (await contenders(name, file, require(path.join(path.resolve(BASE), "dist/kernel")).IECore, "Base")).out;
    out.forEach((p, i) => Object.assign(p.runs, base[i].runs));
  }
  const rows = [];
  for (const p of out) {
    const names = Object.keys(p.runs);
    const times = Object.fromEntries(names.map((k) => [k, []]));
    for (const k of names) for (let i = 0; i < 2; i++) await p.runs[k]();
    // Round-robin so that every contender sees the same machine noise.
    const t0 = Date.now();
    let rounds = 0;
    while ((Date.now() - t0) / 1000 < SECONDS * names.length || rounds < 5) {
      for (const k of names) {
        const s = process.hrtime.bigint();
        await p.runs[k]();
        times[k].push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      rounds++;
      if (rounds >= 2000) break;
    }
    const row = { model: name, n: p.n, rounds };
    for (const k of names) row[k] = median(times[k]);
    if (flops) row.gflops = (flops * p.n) / (Math.min(row.static, row.dynamic ?? Infinity) * 1e6);
    if (flops && row.ort) row.ortGflops = (flops * p.n) / (row.ort * 1e6);
    rows.push(row);
    if (args.includes("--profile") && p.req) {
      const pc = Object.entries(p.req.getPerformanceCounts()).filter(([, v]) => v.status === "EXECUTED");
      pc.sort((a, b) => b[1].realTimeUs - a[1].realTimeUs);
      const total = pc.reduce((a, [, v]) => a + v.realTimeUs, 0);
      console.log(`  ${pc.length} executed layers, ${(total / 1000).toFixed(2)} ms`);
      for (const [k, v] of pc.slice(0, 12))
        console.log(
          `    ${k.slice(0, 40).padEnd(40)} ${v.layerType.padEnd(16)} ${v.execType.padEnd(22)} ${(v.realTimeUs / 1000).toFixed(3)} ms`,
        );
    }
    const fmt = (v) => (v === undefined ? "-" : v < 1 ? v.toFixed(3) : v.toFixed(2));
    console.log(
      [
        name.padEnd(34),
        `n=${String(p.n).padStart(2)}`,
        `static ${fmt(row.static)}ms`,
        `dyn ${fmt(row.dynamic)}ms`,
        `ort ${fmt(row.ort)}ms`,
        row.dynamic ? `dyn/static ${(row.dynamic / row.static).toFixed(3)}` : "",
        row.ort ? `ours/ort ${(Math.min(row.static, row.dynamic ?? Infinity) / row.ort).toFixed(3)}` : "",
        row.gflops ? `${row.gflops.toFixed(1)} GFLOP/s` : "",
        row.ortGflops ? `(ort ${row.ortGflops.toFixed(1)})` : "",
        row.staticBase
          ? `base static ${fmt(row.staticBase)}ms dyn ${fmt(row.dynamicBase)}ms  now/base ${(row.static / row.staticBase).toFixed(3)}`
          : "",
      ].join("  "),
    );
  }
  return rows;
}

(async () => {
  const names = opt("models", Object.keys(MODELS).join(",")).split(",");
  const all = [];
  for (const m of names) all.push(...(await measure(m)));
  const json = opt("json");
  if (json) fs.writeFileSync(json, JSON.stringify(all, null, 1));
  if (!opt("save")) fs.rmSync(tmp, { recursive: true, force: true });
})();
