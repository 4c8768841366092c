// A padded conv reading a program input through per-channel multiply/add ops (an input
// normalization, as in head pose and landmarks) applies them itself (preScale, preShift) while it
// converts the plain input into its kernel's layout: checked against a float64 reference at every
// batch after every other, on a small map and on one large enough for the conv to read the plain
// input directly with 8-channel blocks forced (DYNBATCH_CONV_BLOCKS), so every layout it packs into runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { LoweredProgram } from "../../kernel/plugins/lower";
import { loadAddon, NativeProgramSpec } from "../../kernel/plugins/native";
import { numel, randomData } from "../helpers/models";
import { refConv2d } from "../helpers/conv_ref";

const addon = loadAddon();
const [MAX, C, O] = [3, 3, 16];

/** x → mul s → add t → conv 3x3 (pad 1, bias, relu) → y on an H x H map. */
function program(H: number): LoweredProgram {
  const k = (shape: number[], seed: number, a: number, b: number) => ({
    shape,
    batched: false,
    data: randomData(numel(shape), seed, a, b),
  });
  const spec: NativeProgramSpec = {
    maxBatch: MAX,
    threads: 2,
    tensors: [
      { shape: [MAX, C, H, H], batched: true },
      k([1, C, 1, 1], 1, -2, 2),
      { shape: [MAX, C, H, H], batched: true },
      k([1, C, 1, 1], 2, -1, 1),
      { shape: [MAX, C, H, H], batched: true },
      k([O, C, 3, 3], 3, -0.5, 0.5),
      k([O], 4, -1, 1),
      { shape: [MAX, O, H, H], batched: true },
      { shape: [MAX, O, H, H], batched: true },
    ],
    ops: [
      { type: "binary", name: "scale", inputs: [0, 1], outputs: [2], attrs: { op: "mul" } },
      { type: "binary", name: "mean", inputs: [2, 3], outputs: [4], attrs: { op: "add" } },
      {
        type: "conv",
        name: "conv",
        inputs: [4, 5, 6],
        outputs: [7],
        attrs: { strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 1 },
      },
      { type: "unary", name: "relu", inputs: [7], outputs: [8], attrs: { op: "relu" } },
    ],
    inputs: [0],
    outputs: [8],
  };
  return { spec, inputs: [], outputs: [], layers: spec.ops.map((o) => ({ name: o.name, type: o.type, execType: o.type })) };
}

test("an input normalization before a padded conv becomes the conv's preScale/preShift", () => {
  const p = program(6);
  const f = fuseProgram(p);
  assert.deepEqual(
    f.spec.ops.map((o) => o.type),
    ["conv"],
  );
  const conv = f.spec.ops[0];
  assert.equal(conv.inputs[0], 0, "the conv reads the program input");
  const [s, t] = [p.spec.tensors[1].data!, p.spec.tensors[3].data!];
  assert.deepEqual(conv.attrs.preScale, Array.from(s));
  assert.deepEqual(conv.attrs.preShift, Array.from(t));
  assert.deepEqual(
    f.fused[0].map((l) => l.name),
    ["scale", "mean", "relu"],
  );
  // A normalized input that is also a program output keeps its ops (each an affine op).
  const q = program(6);
  q.spec.outputs = [8, 2];
  const g = fuseProgram(q);
  assert.deepEqual(
    g.spec.ops.map((o) => o.type),
    ["affine", "affine", "conv"],
  );
  assert.equal(g.spec.ops[2].attrs.preScale, undefined);
});

for (const H of [6, 101])
  for (const blocks of ["8", "16"])
    test(`${H}x${H} map, DYNBATCH_CONV_BLOCKS=${blocks}: equal to float64 at every n after every other`, async (t) => {
      const saved = process.env.DYNBATCH_CONV_BLOCKS;
      process.env.DYNBATCH_CONV_BLOCKS = blocks;
      t.after(() => (saved === undefined ? delete process.env.DYNBATCH_CONV_BLOCKS : (process.env.DYNBATCH_CONV_BLOCKS = saved)));
      const p = program(H);
      const req = new addon.Program(fuseProgram(p).spec).createRequest();
      const [s, sh, w, b] = [1, 3, 5, 6].map((i) => p.spec.tensors[i].data!);
      for (const n of [3, 1, 2, 1, 3]) {
        const x = randomData(n * C * H * H, 10 + n, -1, 1);
        new Float32Array(req.buffer(0)).set(x);
        await req.run(n);
        const got = new Float32Array(req.buffer(8)).subarray(0, n * O * H * H);
        const normalized = Float64Array.from(x, (v, i) => v * s[Math.floor(i / (H * H)) % C] + sh[Math.floor(i / (H * H)) % C]);
        const { y } = refConv2d(normalized, [n, C, H, H], w, [O, C, 3, 3], b, 1);
        let worst = 0;
        y.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - Math.max(v, 0)) / (1 + Math.abs(v)))));
        assert.ok(worst < 1e-5, `batch ${n}: ${worst}`);
      }
    });
