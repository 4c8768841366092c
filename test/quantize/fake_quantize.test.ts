/**
 * FakeQuantize-1 end to end in FP32: shape inference and its typed errors, both analyses, an IR
 * written and read back, run with a dynamic batch against the formula evaluated here (not the
 * kernel's code), and its QDQ export run in onnxruntime.
 */
import { GPU_SKIP } from "../gpu/env";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { CNNNetwork, DynbatchError, IECore, InferRequest } from "../../kernel";
import { analyze } from "../../kernel/analysis";
import { prepare } from "../../kernel/graph/prepare";
import { PortRef } from "../../kernel/graph/graph";
import { GraphBuilder } from "../helpers/graph_builder";
import { randomData } from "../helpers/models";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fq-"));
const LIMIT = 4;

/** OpenVINO's formula in float32 steps (Math.fround after each operation, as the C++ float code does), half to even. */
function oracle(x: number, il: number, ih: number, ol: number, oh: number, levels: number): number {
  const r = Math.fround;
  if (x <= Math.min(il, ih)) return ol;
  if (x > Math.max(il, ih)) return oh;
  const t = r(r(r(x - il) / r(ih - il)) * (levels - 1));
  const fl = Math.floor(t);
  const q = t - fl === 0.5 ? (fl % 2 === 0 ? fl : fl + 1) : Math.round(t);
  return r(r(r(q / (levels - 1)) * r(oh - ol)) + ol);
}

const C = 3;
const HW = [4, 5];
// Per-channel limits [1,C,1,1]; output limits differ from input limits (a requantization).
const IL = [-1, -0.5, 0];
const IH = [1, 0.25, 2];
const OL = [-2, 0, 1];
const OH = [2, 3, 1.5];
const LEVELS = 7;

function fqGraph(opts: { levels?: number; il?: number[]; batch?: number; limitShape?: number[]; autoBroadcast?: string } = {}) {
  const b = new GraphBuilder("fq");
  const x = b.param("x", [opts.batch ?? 1, C, ...HW]);
  const s = opts.limitShape ?? [1, C, 1, 1];
  const lim = (v: number[], name: string) => b.constant(v, s, "f32", name);
  const y = b.op(
    "FakeQuantize",
    [x, lim(opts.il ?? IL, "il"), lim(IH, "ih"), lim(OL, "ol"), lim(OH, "oh")],
    { levels: opts.levels ?? LEVELS, auto_broadcast: opts.autoBroadcast ?? "numpy" },
    { name: "fq" },
  );
  b.result(y, "y");
  return b.build();
}

function rejectsBadModel(fn: () => unknown, pattern: RegExp, code = "BAD_MODEL"): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DynbatchError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, /layer 'fq'/);
    assert.match(e.message, pattern);
    return true;
  });
}

test("FakeQuantize: bad levels, limits that do not broadcast, input_low above input_high are typed errors naming the layer", () => {
  rejectsBadModel(() => prepare(fqGraph({ levels: 1 })), /levels must be an integer >= 2, got 1/);
  rejectsBadModel(
    () => prepare(fqGraph({ limitShape: [1, C, 1, 2] })),
    /input_low of shape \[1,3,1,2\] does not broadcast/,
    "SHAPE_INFERENCE",
  );
  rejectsBadModel(() => prepare(fqGraph({ il: [-1, 0.5, 0] })), /input_low 0.5 is above input_high 0.25/);
  rejectsBadModel(
    () => prepare(fqGraph({ autoBroadcast: "none" })),
    /shape \[1,3,1,1\] does not broadcast .*auto_broadcast none/,
    "SHAPE_INFERENCE",
  );
  rejectsBadModel(
    () => prepare(fqGraph({ autoBroadcast: "pdpd" })),
    /auto_broadcast 'pdpd' is not numpy or none/,
    "UNSUPPORTED_OP",
  );
});

test("FakeQuantize of constants folds to the formula's values (quantized weights become constants)", () => {
  const b = new GraphBuilder("fold");
  const w = b.constant([-3, -0.4, 0.1, 0.3, 0.5, 2], [2, 3], "f32");
  const c = (v: number[]) => b.constant(v, [2, 1], "f32");
  const y = b.op("FakeQuantize", [w, c([-1, 0]), c([1, 1]), c([-1, 0]), c([1, 1])], { levels: 5 }, { name: "fq" });
  b.result(y);
  const g = prepare(b.build());
  const got = Array.from(g.nodes.find((n) => n.id === y.node)!.folded![0].data);
  const want = [-3, -0.4, 0.1, 0.3, 0.5, 2].map((x, k) => oracle(x, k < 3 ? -1 : 0, 1, k < 3 ? -1 : 0, 1, 5));
  assert.deepEqual(got, want);
});

test("analysis: strict refuses FakeQuantize (not in the published list); shape-aware proves it per element", () => {
  const g = prepare(fqGraph());
  const strict = analyze(g, { mode: "strict" }).layers.find((l) => l.name === "fq")!;
  assert.equal(strict.verdict, "unsupported");
  assert.match(strict.reason, /FakeQuantize/);
  const aware = analyze(g, { mode: "shape-aware" }).layers.find((l) => l.name === "fq")!;
  assert.equal(aware.verdict, "supported", aware.reason);
});

test("analysis: limits that vary along the batch axis refuse a dynamic batch, saying why", () => {
  const b = new GraphBuilder("fq");
  const x = b.param("x", [2, C]);
  const lim = (v: number[]) => b.constant(v, [2, 1], "f32");
  b.result(b.op("FakeQuantize", [x, lim([-1, -2]), lim([1, 2]), lim([-1, -2]), lim([1, 2])], { levels: 256 }, { name: "fq" }));
  const v = analyze(prepare(b.build()), { mode: "shape-aware" }).layers.find((l) => l.name === "fq")!;
  assert.equal(v.verdict, "unsupported");
  assert.match(v.reason, /does not broadcast/);
});

async function runPoisoned(req: InferRequest, data: Float32Array): Promise<Float32Array> {
  req.setInput("x", data);
  req.getBlob("y").data.fill(NaN);
  await req.infer();
  return Float32Array.from(req.getBlob("y").data);
}

for (const device of ["CPU", "GPU"]) {
  const opts = { skip: device === "GPU" ? GPU_SKIP : undefined };
  test(`IR with per-channel FakeQuantize on ${device}: setBatch(1..${LIMIT}) equals the formula per element`, opts, async () => {
    const ie = new IECore();
    const xml = path.join(dir, `fq-${device}.xml`);
    new CNNNetwork(fqGraph()).serialize(xml);
    assert.match(fs.readFileSync(xml, "utf8"), /type="FakeQuantize"/);
    const net = await ie.readNetwork(xml);
    net.batchSize = LIMIT;
    const exec = await ie.loadNetwork(net, device, { DYN_BATCH_ENABLED: "YES" });
    const req = exec.createInferRequest();
    const per = C * HW[0] * HW[1];
    for (const n of [1, 2, 3, 4, 2]) {
      req.setBatch(n);
      // Beyond every limit on both sides, so clamping and every level are exercised.
      const data = randomData(n * per, 40 + n, -2.5, 2.5);
      const got = await runPoisoned(req, data);
      assert.equal(got.length, n * per);
      for (let i = 0; i < got.length; i++) {
        const c = Math.floor(i / (HW[0] * HW[1])) % C;
        const want = oracle(data[i], IL[c], IH[c], OL[c], OH[c], LEVELS);
        assert.ok(Math.abs(got[i] - want) <= 1e-5, `batch ${n} element ${i} (x ${data[i]}, channel ${c}): ${got[i]} vs ${want}`);
      }
    }
  });
}

/** x → FakeQuantize u8 per tensor → Convolution (weights FakeQuantized int8 per output channel) → FakeQuantize i8 per channel. */
function qdqFriendly(): CNNNetwork {
  const b = new GraphBuilder("qdq");
  const x = b.param("x", [1, C, ...HW]);
  const scalar = (v: number) => b.constant([v], [], "f32");
  const s = 4 / 255;
  const xq = b.op("FakeQuantize", [x, scalar(-60 * s), scalar(195 * s), scalar(-60 * s), scalar(195 * s)], { levels: 256 });
  const O = 4;
  const w = b.constant(randomData(O * C * 9, 3, -1, 1), [O, C, 3, 3], "f32");
  const wl = Array.from({ length: O }, (_, o) => 0.5 + o * 0.25);
  const per = (v: number[]) => b.constant(v, [O, 1, 1, 1], "f32");
  const neg = wl.map((v) => -v);
  const wq = b.op("FakeQuantize", [w, per(neg), per(wl), per(neg), per(wl)], { levels: 255 });
  const conv: PortRef = b.op("Convolution", [xq, wq], { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1" });
  const al = Array.from({ length: O }, (_, o) => 2 + o);
  const act = (v: number[]) => b.constant(v, [1, O, 1, 1], "f32");
  const aneg = al.map((v) => -v);
  b.result(b.op("FakeQuantize", [conv, act(aneg), act(al), act(aneg), act(al)], { levels: 255 }, { name: "fq" }), "y");
  return new CNNNetwork(b.build());
}

test("QDQ export: onnxruntime on QuantizeLinear/DequantizeLinear equals dynbatch within one quantization step", async (t) => {
  const ie = new IECore();
  const file = path.join(dir, "qdq.onnx");
  qdqFriendly().serialize(file);
  const session = await ort.InferenceSession.create(file);
  const net = qdqFriendly();
  net.batchSize = LIMIT;
  const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const per = C * HW[0] * HW[1];
  let steps = 0;
  let total = 0;
  for (const n of [1, 2, 3, 4]) {
    req.setBatch(n);
    const data = randomData(n * per, 70 + n, -3, 9);
    const ours = await runPoisoned(req, data);
    const theirs = (await session.run({ x: new ort.Tensor("float32", data, [n, C, ...HW]) }))[session.outputNames[0]]
      .data as Float32Array;
    assert.equal(theirs.length, ours.length);
    for (let i = 0; i < ours.length; i++) {
      // The output step of channel c is (2·al[c]) / 254; ties of the input FakeQuantize's rounding
      // may differ by one input step, which the convolution can carry to one output step.
      const step = (2 * (2 + (Math.floor(i / (HW[0] * HW[1])) % 4))) / 254;
      const d = Math.abs(ours[i] - theirs[i]);
      if (d > 1e-5) steps++;
      assert.ok(d <= step * 1.001, `batch ${n} element ${i}: ${ours[i]} vs onnxruntime ${theirs[i]}`);
    }
    total += ours.length;
  }
  t.diagnostic(`${steps} of ${total} outputs one quantization step apart, the rest within 1e-5`);
});

test("QDQ export read back by dynbatch: the pairs become FakeQuantize again and give the original's outputs", async () => {
  const ie = new IECore();
  const file = path.join(dir, "roundtrip.onnx");
  qdqFriendly().serialize(file);
  const back = await ie.readNetwork(file);
  assert.equal(back.layers.filter((l) => l.type === "FakeQuantize").length, 2);
  const net = qdqFriendly();
  const per = C * HW[0] * HW[1];
  const reqs = await Promise.all(
    [net, back].map(async (m) => {
      m.batchSize = LIMIT;
      return (await ie.loadNetwork(m, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    }),
  );
  for (const n of [1, 3]) {
    const data = randomData(n * per, 90 + n, -3, 9);
    const [a, b] = await Promise.all(
      reqs.map(async (r) => {
        r.setBatch(n);
        r.setInput("x", data);
        const out = Object.keys(r === reqs[0] ? net.outputs : back.outputs)[0];
        r.getBlob(out).data.fill(NaN);
        await r.infer();
        return Float32Array.from(r.getBlob(out).data);
      }),
    );
    // Limits recomputed from scale and zero point may differ in the last bit: one step at most, as above.
    for (let i = 0; i < a.length; i++) {
      const step = (2 * (2 + (Math.floor(i / (HW[0] * HW[1])) % 4))) / 254;
      assert.ok(Math.abs(a[i] - b[i]) <= step * 1.001, `batch ${n} element ${i}: ${a[i]} vs ${b[i]}`);
    }
  }
});

test("QDQ export refuses a FakeQuantize with no exact QuantizeLinear form, naming the layer", () => {
  const file = path.join(dir, "bad.onnx");
  assert.throws(
    () => new CNNNetwork(fqGraph({ levels: 16 })).serialize(file),
    (e: unknown) =>
      e instanceof DynbatchError && /layer 'fq'.*levels 16 is neither 256 \(uint8\) nor odd up to 255/.test(e.message),
  );
  assert.throws(
    () => new CNNNetwork(fqGraph({ levels: 256 })).serialize(file),
    (e: unknown) => e instanceof DynbatchError && /layer 'fq'.*output limits differ/.test(e.message),
  );
});
