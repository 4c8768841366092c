// The CPU plugin's depthwise-separable fusion (kernel/plugins/cpu/fuse_sepconv.ts and the native
// `sepconv` op): which chains become one op, and that the fused network computes what the unfused
// one does and what onnxruntime does, at every batch after every other, on odd sizes (channels
// that do not fill 8-channel blocks, a height that splits unevenly into stripes, a width of 1,
// stride 2 on an odd height). DYNBATCH_FUSE_SEPCONV forces the fusion on or off, so every machine
// tests it; the AVX2 run of the suite (ONEDNN_MAX_CPU_ISA=AVX2) tests the AVX2 kernels.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { fuseSeparable } from "../../kernel/plugins/cpu/fuse_sepconv";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { LoweredProgram } from "../../kernel/plugins/lower";
import { loadAddon, NativeProgramSpec } from "../../kernel/plugins/native";
import { maxRelDiff, numel, randomData } from "../helpers/models";
import { OnnxBuilder } from "../helpers/onnx_builder";

/**
 * Four chains on x [cin, h, w]: a MobileNetV2 inverted residual (expand → ReLU6, depthwise →
 * ReLU6, project, + x), a strided one without residual (ReLU, stride 2), a depthwise → narrowing
 * 1×1 pair (ReLU, then Clip(-1, 1)), and expand → depthwise without a project (a pool follows);
 * last a depthwise → widening 1×1 pair, which stays unfused.
 */
function network(cin: number, h: number, w: number): { file: string; out: string } {
  const b = new OnnxBuilder(13);
  const conv = (x: string, ci: number, co: number, k: number, stride = 1, group = 1) =>
    b.op1("Conv", [x, b.weight([co, ci / group, k, k], -0.4, 0.4), b.weight([co], -0.1, 0.1)], {
      kernel_shape: [k, k],
      pads: Array(4).fill(k >> 1),
      strides: [stride, stride],
      group,
    });
  const clip = (x: string, lo: number, hi: number) => b.op1("Clip", [x, b.weight([], 0, 0, [lo]), b.weight([], 0, 0, [hi])]);
  const x = b.input("x", [cin, h, w]);
  const e1 = clip(conv(x, cin, 40, 1), 0, 6);
  let y = b.op1("Add", [conv(clip(conv(e1, 40, 40, 3, 1, 40), 0, 6), 40, cin, 1), x]);
  const e2 = b.op1("Relu", [conv(y, cin, 36, 1)]);
  y = conv(b.op1("Relu", [conv(e2, 36, 36, 3, 2, 36)]), 36, 20, 1);
  y = clip(conv(b.op1("Relu", [conv(y, 20, 20, 3, 1, 20)]), 20, 12, 1), -1, 1);
  y = b.op1("Relu", [conv(b.op1("Relu", [conv(y, 12, 24, 1)]), 24, 24, 3, 2, 24)]);
  y = b.op1("MaxPool", [y], { kernel_shape: [1, 1] });
  y = conv(b.op1("Relu", [conv(y, 24, 24, 3, 1, 24)]), 24, 28, 1);
  const out = b.op1("Relu", [y]);
  b.output(out);
  return { file: b.save(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-sepconv-"))), out };
}

async function load(file: string, fuse: "0" | "1", maxBatch: number, threads: number, parallel: string) {
  const previous = process.env.DYNBATCH_FUSE_SEPCONV;
  process.env.DYNBATCH_FUSE_SEPCONV = fuse;
  try {
    const ie = new IECore();
    const net = await ie.readNetwork(file);
    net.batchSize = maxBatch;
    const exec = await ie.loadNetwork(net, "CPU", {
      DYN_BATCH_ENABLED: "YES",
      CPU_THREADS_NUM: String(threads),
      CPU_PARALLEL: parallel,
    });
    return exec.createInferRequest();
  } finally {
    if (previous === undefined) delete process.env.DYNBATCH_FUSE_SEPCONV;
    else process.env.DYNBATCH_FUSE_SEPCONV = previous;
  }
}

// LAYERS: each op on all threads (the 30×23 chains are large enough to get them): stripes of
// rows at n = 1, with 4 threads on 3 samples two stripes per sample and a thread's items spanning
// samples; SAMPLES: each thread whole samples, the op on one thread.
for (const [cin, h, w, threads, parallel] of [
  [12, 9, 7, 2, "AUTO"],
  [16, 5, 1, 2, "AUTO"],
  [8, 30, 23, 2, "LAYERS"],
  [8, 30, 23, 4, "LAYERS"],
  [8, 30, 23, 2, "SAMPLES"],
] as const) {
  test(`fused chains equal the unfused network and onnxruntime, every n after every other (x ${cin}×${h}×${w}, ${threads} threads, ${parallel})`, async () => {
    const { file, out } = network(cin, h, w);
    const session = await ort.InferenceSession.create(file);
    const N = 3;
    const fused = await load(file, "1", N, threads, parallel);
    const plain = await load(file, "0", N, threads, parallel);
    const sample = cin * h * w;
    let runs = 0;
    for (let a = 1; a <= N; a++) {
      for (const n of [a, ...Array.from({ length: N }, (_, i) => i + 1)]) {
        const x = randomData(n * sample, 100 + runs++, -1, 1);
        const results: Float32Array[] = [];
        for (const req of [fused, plain]) {
          req.setBatch(n);
          req.setInput("x", x);
          await req.infer();
          results.push(Float32Array.from(req.getBlob(out).data));
        }
        const ref = (await session.run({ x: new ort.Tensor("float32", x, [n, cin, h, w]) }))[out].data as Float32Array;
        assert.ok(maxRelDiff(results[0], results[1]) <= 1e-5, `n=${n}: fused vs unfused ${maxRelDiff(results[0], results[1])}`);
        assert.ok(maxRelDiff(results[0], ref) <= 1e-4, `n=${n}: fused vs onnxruntime ${maxRelDiff(results[0], ref)}`);
      }
    }
    // Four chains ran fused (their other convs listed inside them); the widening pair did not.
    const pc = Object.values(fused.getPerformanceCounts());
    assert.equal(pc.filter((p) => p.execType.startsWith("fused_rows")).length, 4);
    const inside = pc.filter((p) => p.fusedInto && /Convolution$/.test(p.layerType));
    assert.equal(inside.length, 6, "expand and depthwise convs of three chains, the depthwise of the pair");
    assert.equal(Object.values(plain.getPerformanceCounts()).filter((p) => p.execType.startsWith("fused_rows")).length, 0);
  });
}

test("a fused network loaded again for another batch shares its packed weights and computes the same", async (t) => {
  const { file, out } = network(12, 9, 7);
  const addon = loadAddon();
  const first = await load(file, "1", 3, 2, "AUTO");
  const x = randomData(2 * 12 * 9 * 7, 7, -1, 1);
  first.setBatch(2);
  first.setInput("x", x);
  await first.infer();
  if (!Object.values(first.getPerformanceCounts()).some((p) => p.execType.startsWith("fused_rows"))) {
    t.skip("no AVX2 and FMA here: nothing fuses");
    return;
  }
  const before = addon.sharedConstantsMade();
  const second = await load(file, "1", 2, 2, "AUTO");
  second.setBatch(2);
  second.setInput("x", x);
  await second.infer();
  assert.equal(addon.sharedConstantsMade(), before, "the second load packed or reordered its weights again");
  assert.deepEqual(second.getBlob(out).data, first.getBlob(out).data);
});

/** x → 1×1 conv (ReLU) → t1 → depthwise 3×3 (clamp 0..6) → t2 → 1×1 conv (`sum` x) → y, at batch 2. */
function chainProgram(): LoweredProgram {
  const c = (shape: number[], seed: number) => ({ shape, batched: false, data: randomData(numel(shape), seed, -0.5, 0.5) });
  const a = (shape: number[]) => ({ shape: [2, ...shape], batched: true });
  const pw = { strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], group: 1 };
  const spec: NativeProgramSpec = {
    maxBatch: 2,
    threads: 2,
    tensors: [
      a([8, 6, 6]),
      c([24, 8, 1, 1], 1),
      c([24], 2),
      a([24, 6, 6]),
      c([24, 1, 3, 3], 3),
      a([24, 6, 6]),
      c([8, 24, 1, 1], 4),
      a([8, 6, 6]),
    ],
    inputs: [0],
    outputs: [7],
    ops: [
      { type: "conv", name: "expand", inputs: [0, 1, 2], outputs: [3], attrs: { ...pw, post: "relu" } },
      {
        type: "conv",
        name: "dw",
        inputs: [3, 4],
        outputs: [5],
        attrs: { ...pw, padsBegin: [1, 1], padsEnd: [1, 1], group: 24, post: "clamp:0:6" },
      },
      { type: "conv", name: "project", inputs: [5, 6, 0], outputs: [7], attrs: { ...pw, post: "sum" } },
    ],
  };
  const layers = spec.ops.map((o) => ({ name: o.name, type: "Convolution", execType: "conv" }));
  return { spec, inputs: [], outputs: [], layers };
}

/** fuse.ts's program without the separable fusion (which fuseProgram runs last where it pays). */
function unfusedProgram() {
  const previous = process.env.DYNBATCH_FUSE_SEPCONV;
  process.env.DYNBATCH_FUSE_SEPCONV = "0";
  try {
    return fuseProgram(chainProgram());
  } finally {
    if (previous === undefined) delete process.env.DYNBATCH_FUSE_SEPCONV;
    else process.env.DYNBATCH_FUSE_SEPCONV = previous;
  }
}

async function runSpec(spec: NativeProgramSpec, x: Float32Array, n: number): Promise<Float32Array> {
  const req = new (loadAddon().Program)(spec).createRequest();
  new Float32Array(req.buffer(spec.inputs[0])).set(x);
  await req.run(n);
  return new Float32Array(req.buffer(spec.outputs[0])).slice(0, (numel(spec.tensors[spec.outputs[0]].shape) / 2) * n);
}

test("fuseSeparable makes expand → depthwise → project (+ residual) one sepconv op, with zero biases where a conv had none", async () => {
  const p = unfusedProgram();
  assert.deepEqual(
    p.spec.ops.map((o) => o.type),
    ["conv", "conv", "conv"],
  );
  const f = fuseSeparable(p, true);
  assert.deepEqual(
    f.spec.ops.map((o) => o.type),
    ["sepconv"],
  );
  const op = f.spec.ops[0];
  assert.equal(op.name, "project");
  assert.deepEqual(op.attrs, { stride: 1, expand: 1, project: 1, expandClamp: [0, Infinity], depthClamp: [0, 6], sum: 1 });
  assert.equal(op.inputs.length, 8);
  assert.deepEqual(Array.from(f.spec.tensors[op.inputs[4]].data!), new Array(24).fill(0), "the depthwise conv had no bias");
  assert.equal(op.inputs[7], 0, "the residual is x");
  assert.deepEqual(
    f.fused[0].map((l) => [l.name, l.fusedInto]),
    [
      ["expand", "project"],
      ["dw", "project"],
    ],
  );
  assert.equal(fuseSeparable(p, false), p, "nothing changes where the fusion does not pay");
  const x = randomData(2 * 8 * 36, 9, -1, 1);
  for (const n of [2, 1]) {
    const got = await runSpec(f.spec, x, n);
    const want = await runSpec(p.spec, x, n);
    assert.ok(maxRelDiff(got, want) <= 1e-5, `n=${n}: ${maxRelDiff(got, want)}`);
  }
});

test("no chain fuses across a tensor that is a program output or read twice, nor through an activation the kernels lack", () => {
  const output = unfusedProgram();
  output.spec.outputs = [7, 3];
  assert.deepEqual(
    fuseSeparable(output, true).spec.ops.map((o) => o.type),
    ["conv", "sepconv"],
    "t1 is an output: depthwise → project (narrowing) still fuses",
  );
  const twice = unfusedProgram();
  twice.spec.tensors.push({ shape: [2, 24, 6, 6], batched: true });
  twice.spec.ops.push({ type: "unary", name: "side", inputs: [5], outputs: [8], attrs: { op: "abs" } });
  twice.layers.push({ name: "side", type: "Abs", execType: "unary" });
  twice.fused.push([]);
  twice.spec.outputs = [7, 8];
  assert.deepEqual(
    fuseSeparable(twice, true).spec.ops.map((o) => o.type),
    ["sepconv", "conv", "unary"],
    "t2 has two readers: expand → depthwise fuses without the project",
  );
  const sigmoid = unfusedProgram();
  sigmoid.spec.ops[1] = { ...sigmoid.spec.ops[1], attrs: { ...sigmoid.spec.ops[1].attrs, post: "sigmoid" } };
  assert.deepEqual(
    fuseSeparable(sigmoid, true).spec.ops.map((o) => o.type),
    ["conv", "conv", "conv"],
  );
});

test("a sepconv op with inputs that do not match its stages fails at load, naming the layer", () => {
  const f = fuseSeparable(unfusedProgram(), true);
  const spec = { ...f.spec, ops: [{ ...f.spec.ops[0], attrs: { ...f.spec.ops[0].attrs, stride: 3 } }] };
  assert.throws(() => new (loadAddon().Program)(spec), /layer 'project': sepconv stride must be 1 or 2/);
  const short = { ...f.spec, ops: [{ ...f.spec.ops[0], inputs: f.spec.ops[0].inputs.slice(0, 7) }] };
  assert.throws(() => new (loadAddon().Program)(short), /layer 'project': sepconv needs x, a weights and bias pair per stage/);
  // x without a batch axis: run() would read n samples of it.
  const tensors = f.spec.tensors.map((t, i) => (i === 0 ? { ...t, batched: false } : t));
  assert.throws(
    () => new (loadAddon().Program)({ ...f.spec, tensors }),
    (e: Error & { code?: string }) =>
      e.code === "NATIVE" && /layer 'project': sepconv input and output must have the same batch/.test(e.message),
  );
});

/**
 * What a process with the environment variables `vars` (undefined: unset) says: oneDNN's ISA,
 * whether the fusion pays, and the error a sepconv `spec` gets at load, if any.
 */
function inChild(vars: Record<string, string | undefined>, spec: NativeProgramSpec) {
  // JSON has neither Float32Array nor Infinity (a clamp without upper bound).
  const json = JSON.stringify(spec, (_, v) =>
    v === Infinity ? "Infinity" : ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v,
  );
  const script = `
    const addon = require(${JSON.stringify(require.resolve("../../kernel/plugins/native"))}).loadAddon();
    const spec = JSON.parse(process.argv[1], (_, v) => (v === "Infinity" ? Infinity : v));
    for (const t of spec.tensors) if (t.data) t.data = Float32Array.from(t.data);
    let error;
    try { new addon.Program(spec); } catch (e) { error = { code: e.code, message: e.message }; }
    console.log(JSON.stringify({ isa: addon.cpuIsa(), pays: addon.sepconvFusionPays(), error }));`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawnSync(process.execPath, ["-e", script, json], { env, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { isa: string; pays: boolean; error?: { code: string; message: string } };
}

test("below AVX2 nothing fuses, not even with DYNBATCH_FUSE_SEPCONV=1, and a sepconv op is refused naming its layer", () => {
  const spec = fuseSeparable(unfusedProgram(), true).spec;
  for (const force of [undefined, "1"]) {
    // The cap stands in for a CPU without AVX2 (the addon's baseline is SSE2).
    const got = inChild({ ONEDNN_MAX_CPU_ISA: "SSE41", DYNBATCH_FUSE_SEPCONV: force }, spec);
    assert.match(got.isa, /^sse/, "oneDNN took the cap");
    assert.equal(got.pays, false, `DYNBATCH_FUSE_SEPCONV=${force}`);
    assert.equal(got.error?.code, "NATIVE");
    assert.match(got.error?.message ?? "", /layer 'project': sepconv needs AVX2 and FMA/);
  }
});

test("where oneDNN's 512-bit convs run at full width the fusion is off unless forced; with half-width FMAs or AVX2 it is on", () => {
  const spec = fuseSeparable(unfusedProgram(), true).spec;
  // DYNBATCH_CONV_BLOCKS=16 makes this CPU count as one with full-width AVX-512 FMAs (Intel, Zen 5),
  // =8 as Zen 4; either way an AVX2 CPU (or the CI's AVX2 cap) fuses.
  const full = inChild({ DYNBATCH_CONV_BLOCKS: "16", DYNBATCH_FUSE_SEPCONV: undefined }, spec);
  assert.equal(full.pays, !/^avx512/.test(full.isa), full.isa);
  assert.equal(full.error, undefined, "the op itself runs wherever AVX2 does");
  assert.equal(inChild({ DYNBATCH_CONV_BLOCKS: "16", DYNBATCH_FUSE_SEPCONV: "1" }, spec).pays, true);
  assert.equal(inChild({ DYNBATCH_CONV_BLOCKS: "8", DYNBATCH_FUSE_SEPCONV: undefined }, spec).pays, true);
  assert.equal(inChild({ DYNBATCH_CONV_BLOCKS: "8", DYNBATCH_FUSE_SEPCONV: "0" }, spec).pays, false);
});
