// Per-channel multiply/add after a conv's activation (a batch norm placed after the ReLU, as in
// head-pose-estimation-adas-0001) become the conv's post-ops, a positive scale after (leaky) ReLU
// folded into the weights: checked against a float64 reference at every batch after every other.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { LoweredProgram } from "../../kernel/plugins/lower";
import { loadAddon, NativeOpSpec, NativeProgramSpec } from "../../kernel/plugins/native";
import { numel, randomData } from "../helpers/models";
import { refConv2d } from "../helpers/conv_ref";

const addon = loadAddon();
const [MAX, C, O, H] = [3, 4, 8, 6];

type Act = { op: NativeOpSpec["type"]; attrs: NativeOpSpec["attrs"]; slope?: number; f: (v: number) => number };
const ACTS: Record<string, Act> = {
  relu: { op: "unary", attrs: { op: "relu" }, f: (v) => Math.max(v, 0) },
  prelu: { op: "prelu", attrs: {}, slope: -0.25, f: (v) => (v > 0 ? v : -0.25 * v) },
  clamp: { op: "unary", attrs: { op: "clamp", min: -0.5, max: 0.5 }, f: (v) => Math.min(Math.max(v, -0.5), 0.5) },
};

/** x → conv 3x3 (pad 1) → add bias → activation → mul s → add t → y, with s in [lo, hi). */
function program(act: Act, lo: number, hi: number): LoweredProgram {
  const k = (shape: number[], seed: number, a = -1, b = 1) => ({
    shape,
    batched: false,
    data: randomData(numel(shape), seed, a, b),
  });
  const y = () => ({ shape: [MAX, O, H, H], batched: true });
  const spec: NativeProgramSpec = {
    maxBatch: MAX,
    threads: 2,
    tensors: [
      { shape: [MAX, C, H, H], batched: true },
      k([O, C, 3, 3], 1, -0.5, 0.5),
      y(),
      k([1, O, 1, 1], 2),
      y(),
      act.slope === undefined ? k([1], 3) : { shape: [1], batched: false, data: Float32Array.of(act.slope) },
      y(),
      k([1, O, 1, 1], 4, lo, hi),
      y(),
      k([1, O, 1, 1], 5),
      y(),
    ],
    ops: [
      {
        type: "conv",
        name: "conv",
        inputs: [0, 1],
        outputs: [2],
        attrs: { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 },
      },
      { type: "binary", name: "bias", inputs: [2, 3], outputs: [4], attrs: { op: "add" } },
      { type: act.op, name: "act", inputs: act.op === "prelu" ? [4, 5] : [4], outputs: [6], attrs: act.attrs },
      { type: "binary", name: "mul", inputs: [6, 7], outputs: [8], attrs: { op: "mul" } },
      { type: "binary", name: "add", inputs: [9, 8], outputs: [10], attrs: { op: "add" } },
    ],
    inputs: [0],
    outputs: [10],
  };
  return { spec, inputs: [], outputs: [], layers: spec.ops.map((o) => ({ name: o.name, type: o.type, execType: o.type })) };
}

function reference(p: LoweredProgram, act: Act, x: Float32Array, n: number): Float64Array {
  const [w, b, s, t] = [1, 3, 7, 9].map((i) => p.spec.tensors[i].data!);
  const { y } = refConv2d(x, [n, C, H, H], w, [O, C, 3, 3], b, 1);
  const plane = H * H;
  return y.map((v, i) => {
    const o = Math.floor(i / plane) % O;
    return act.f(v) * s[o] + t[o];
  });
}

const CASES: [string, number, number, string][] = [
  ["relu", 0.5, 2, "relu;add"],
  ["prelu", 0.5, 2, "leakyrelu:-0.25;add"],
  ["relu", -1, 1, "relu;mul;add"],
  ["clamp", 0.5, 2, "clamp:-0.5:0.5;mul;add"],
];

for (const [name, lo, hi, post] of CASES)
  test(`conv → ${name} → mul s ∈ [${lo}, ${hi}) → add: post-ops "${post}", equal to float64 at every n after every other`, async () => {
    const act = ACTS[name];
    const p = program(act, lo, hi);
    const f = fuseProgram(p);
    assert.deepEqual(
      f.spec.ops.map((o) => o.type),
      ["conv"],
    );
    assert.equal(f.spec.ops[0].attrs.post, post);
    assert.deepEqual(f.spec.ops[0].outputs, [10]);
    assert.deepEqual(
      f.fused[0].map((l) => l.name),
      ["bias", "act", "mul", "add"],
    );
    const req = new addon.Program(f.spec).createRequest();
    for (const n of [3, 1, 2, 1, 3, 2]) {
      const x = randomData(n * C * H * H, 10 + n, -1, 1);
      new Float32Array(req.buffer(0)).set(x);
      await req.run(n);
      const got = new Float32Array(req.buffer(10)).subarray(0, n * O * H * H);
      const want = reference(p, act, x, n);
      let worst = 0;
      want.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v) / (1 + Math.abs(v)))));
      assert.ok(worst < 1e-5, `batch ${n}: ${worst}`);
    }
  });
