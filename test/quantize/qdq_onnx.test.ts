/**
 * ONNX QDQ models (QuantizeLinear/DequantizeLinear around a Conv and a MatMul, as onnxruntime's
 * quantizer writes them): onnxruntime runs the file, dynbatch reads the same file (pairs become
 * FakeQuantize, quantized weights fold to FP32) and runs it with a dynamic batch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { DynbatchError, IECore } from "../../kernel";
import { randomData } from "../helpers/models";
import { OnnxBuilder } from "../helpers/onnx_builder";

const U8 = 2;
const I8 = 3;
const I32 = 6;
const LIMIT = 4;
const C = 3;
const O = 4;
const HW = 6;
const K = O * HW * HW;
const M = 5;

/** Symmetric int8 weights with values in -127..127 and a scale per output channel (or one). */
function int8Weights(count: number, seed: number): number[] {
  return Array.from(randomData(count, seed, -127, 128), (v) => Math.floor(v));
}

/**
 * x → Q/DQ (u8, per tensor) → Conv (int8 weights per output channel, int32 bias) → Relu → Q/DQ
 * (per channel with `perAxis`, else per tensor) → Flatten → MatMul (int8 weights per column) → Q/DQ.
 */
function qdqModel(opset: number, perAxis: boolean): { file: string; out: string } {
  const b = new OnnxBuilder(opset);
  const x = b.input("x", [C, HW, HW]);
  const sx = 4 / 255;
  const qdq = (t: string, scale: string, zp: string, axis?: number) => {
    const attrs: Record<string, number> = axis === undefined ? {} : { axis };
    return b.op1("DequantizeLinear", [b.op1("QuantizeLinear", [t, scale, zp], attrs), scale, zp], attrs);
  };
  const xs = b.weight([], 0, 0, [sx]);
  const xq = qdq(x, xs, b.integers([128], [], U8));
  // Conv weights: int8 per output channel (axis 0), or per tensor; bias int32 at scale sx·sw.
  const sw = perAxis ? Array.from({ length: O }, (_, o) => 0.01 + 0.005 * o) : [0.01];
  const wq = b.integers(int8Weights(O * C * 9, 5), [O, C, 3, 3], I8);
  const wScale = b.weight(perAxis ? [O] : [], 0, 0, sw);
  const wZero = b.integers(new Array<number>(sw.length).fill(0), perAxis ? [O] : [], I8);
  const w = b.op1("DequantizeLinear", [wq, wScale, wZero], perAxis ? { axis: 0 } : {});
  const biasScale = b.weight(
    perAxis ? [O] : [],
    0,
    0,
    sw.map((s) => s * sx),
  );
  const bias = b.op1("DequantizeLinear", [b.integers([-300, 0, 150, 1000], [O], I32), biasScale], perAxis ? { axis: 0 } : {});
  const conv = b.op1("Conv", [xq, w, bias], { pads: [1, 1, 1, 1], strides: [1, 1] });
  const relu = b.op1("Relu", [conv]);
  // Activations after the ReLU: u8 with zero point 0, per channel (axis 1) or per tensor.
  const sa = perAxis ? Array.from({ length: O }, (_, o) => (0.5 + 0.25 * o) / 255) : [1.5 / 255];
  const aScale = b.weight(perAxis ? [O] : [], 0, 0, sa);
  const aZero = b.integers(new Array<number>(sa.length).fill(0), perAxis ? [O] : [], U8);
  const act = qdq(relu, aScale, aZero, perAxis ? 1 : undefined);
  const flat = b.op1("Flatten", [act], { axis: 1 });
  // MatMul weights [K, M]: int8 per column (axis 1), as onnxruntime's per-channel quantizer writes them.
  const sm = perAxis ? Array.from({ length: M }, (_, m) => 0.002 + 0.001 * m) : [0.003];
  const mq = b.integers(int8Weights(K * M, 9), [K, M], I8);
  const mw = b.op1(
    "DequantizeLinear",
    [mq, b.weight(perAxis ? [M] : [], 0, 0, sm), b.integers(new Array<number>(sm.length).fill(0), perAxis ? [M] : [], I8)],
    perAxis ? { axis: 1 } : {},
  );
  const mm = b.op1("MatMul", [flat, mw]);
  // Output: int8 per tensor with a non-zero zero point.
  const y = qdq(mm, b.weight([], 0, 0, [0.05]), b.integers([-3], [], I8));
  b.output(y);
  return { file: b.save(), out: y };
}

const cases: [number, boolean][] = [
  [10, false],
  [13, false],
  [13, true],
  [21, true],
];

for (const [opset, perAxis] of cases) {
  test(`QDQ Conv + MatMul, opset ${opset}, ${perAxis ? "per axis" : "per tensor"}: dynbatch at setBatch(1..${LIMIT}) equals onnxruntime`, async (t) => {
    const { file, out } = qdqModel(opset, perAxis);
    const session = await ort.InferenceSession.create(file);
    const ie = new IECore();
    const net = await ie.readNetwork(file);
    const types = net.layers.map((l) => l.type);
    // Three Q/DQ pairs on activations, no arithmetic left over from the weights' DequantizeLinear.
    assert.equal(types.filter((ty) => ty === "FakeQuantize").length, 3, types.join(","));
    assert.ok(!types.includes("Subtract") && !types.includes("Convert"), types.join(","));
    assert.equal(net.analyze({ mode: "shape-aware" }).supported, true);
    net.batchSize = LIMIT;
    const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const outName = Object.keys(net.outputs)[0];
    const per = C * HW * HW;
    let stepped = 0;
    let total = 0;
    for (const n of [1, 2, 3, 4]) {
      req.setBatch(n);
      // Different samples per row (fresh seeds) and a range past the input grid on both sides.
      const data = randomData(n * per, 100 * opset + n, -5, 1);
      req.setInput("x", data);
      req.getBlob(outName).data.fill(NaN);
      await req.infer();
      const ours = Float32Array.from(req.getBlob(outName).data);
      const theirs = (await session.run({ x: new ort.Tensor("float32", data, [n, C, HW, HW]) }))[out].data as Float32Array;
      assert.equal(ours.length, n * M);
      assert.equal(theirs.length, ours.length);
      for (let i = 0; i < ours.length; i++) {
        const d = Math.abs(ours[i] - theirs[i]);
        // Within 1e-5, or one output step (0.05) where a rounding tie or a last-bit difference in
        // the FP32 accumulation order moved one value across a rounding boundary.
        if (d > 1e-5) stepped++;
        assert.ok(d <= 0.05 * 1.001, `opset ${opset} batch ${n} element ${i}: ${ours[i]} vs onnxruntime ${theirs[i]}`);
      }
      total += ours.length;
    }
    // One step apart must stay the exception, not the rule.
    assert.ok(stepped <= total / 10, `${stepped} of ${total} outputs one step apart`);
    t.diagnostic(`${stepped} of ${total} outputs one quantization step apart, the rest within 1e-5`);
  });
}

/** x → QuantizeLinear → DequantizeLinear with the given scale and zero point (int32_data, so any value can be stored). */
function badModel(scale: number, zero: number, zeroType: 2 | 3): string {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [2]);
  const s = b.weight([], 0, 0, [scale]);
  const z = b.integers([zero], [], zeroType, true);
  b.output(b.op1("DequantizeLinear", [b.op("QuantizeLinear", [x, s, z], {}, 1, "q")[0], s, z]));
  return b.save();
}

test("QDQ with a zero or negative scale, or a zero point out of its type's range, is BAD_MODEL naming the node", async () => {
  const ie = new IECore();
  const cases: [number, number, 2 | 3, RegExp][] = [
    [0, 0, I8, /scale 0 \(element 0\) must be positive/],
    [-0.5, 0, I8, /scale -0.5 \(element 0\) must be positive/],
    [0.1, 300, U8, /zero point 300 \(element 0\) is out of the u8 range 0..255/],
    [0.1, -129, I8, /zero point -129 \(element 0\) is out of the i8 range -128..127/],
  ];
  for (const [scale, zero, type, pattern] of cases) {
    await assert.rejects(ie.readNetwork(badModel(scale, zero, type)), (e: unknown) => {
      assert.ok(e instanceof DynbatchError, String(e));
      assert.equal(e.code, "BAD_MODEL");
      assert.match(e.message, /layer '(QuantizeLinear|DequantizeLinear)_\d+'/);
      assert.match(e.message, pattern);
      return true;
    });
  }
});

test("a lone QuantizeLinear (a graph output) and a DequantizeLinear with other parameters equal onnxruntime", async () => {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [C, 4]);
  const sq = Array.from({ length: C }, (_, c) => 0.02 + 0.01 * c);
  const q = b.op("QuantizeLinear", [x, b.weight([C], 0, 0, sq), b.integers([0, 5, -7], [C], I8)], { axis: 1 }, 1, "q")[0];
  // Another scale and zero point: not the inverse of the QuantizeLinear, so no pair forms.
  const y = b.op1("DequantizeLinear", [q, b.weight([], 0, 0, [0.1]), b.integers([3], [], I8)]);
  b.typedOutput(q, I8);
  b.output(y);
  const file = b.save();
  const session = await ort.InferenceSession.create(file);
  const ie = new IECore();
  const net = await ie.readNetwork(file);
  const types = net.layers.map((l) => l.type);
  assert.ok(types.includes("FakeQuantize") && types.includes("Subtract") && types.includes("Multiply"), types.join(","));
  net.batchSize = LIMIT;
  const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const outs = Object.keys(net.outputs);
  for (const n of [1, 3, 4]) {
    req.setBatch(n);
    const data = randomData(n * C * 4, 300 + n, -4, 4);
    req.setInput("x", data);
    for (const o of outs) req.getBlob(o).data.fill(NaN);
    await req.infer();
    const theirs = await session.run({ x: new ort.Tensor("float32", data, [n, C, 4]) });
    // The ONNX output names are the tensor names dynbatch kept on its outputs, in the same order.
    [q, y].forEach((name, k) => {
      const ours = req.getBlob(outs[k]).data;
      const want = Array.from(theirs[name].data as ArrayLike<number>, Number);
      assert.equal(ours.length, want.length);
      for (let i = 0; i < ours.length; i++)
        assert.ok(Math.abs(ours[i] - want[i]) <= 1e-5, `${name}[${i}] at batch ${n}: ${ours[i]} vs ${want[i]}`);
    });
  }
});
