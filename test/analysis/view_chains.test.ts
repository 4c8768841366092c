/**
 * Shape-aware analysis on the usual PyTorch export of `x.view(x.size(0), -1)`: Shape → Gather or
 * Slice → Concat → Reshape rebuilds the batch from the input's own shape, so it is proved (and runs
 * like onnxruntime at every batch); the exports that hard-code the batch are refused at the Reshape.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { maxRelDiff, randomData } from "../helpers/models";
import { OnnxBuilder } from "../helpers/onnx_builder";

const ie = new IECore();

/** Conv → Reshape(conv, target(b, conv)) → MatMul: the classifier head of a CNN export. */
function viewModel(target: (b: OnnxBuilder, conv: string) => string, inner = 32): OnnxBuilder {
  const b = new OnnxBuilder(13);
  const x = b.input("x", [3, 4, 4]);
  const conv = b.op1("Conv", [x, b.weight([2, 3, 3, 3]), b.weight([2])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const flat = b.op1("Reshape", [conv, target(b, conv)]);
  b.output(b.op1("MatMul", [flat, b.weight([inner, 5])]));
  return b;
}

const minusOne = (b: OnnxBuilder) => b.int64([-1]);

const PROVED: Record<string, (b: OnnxBuilder, conv: string) => string> = {
  "Shape → Gather(0) → Unsqueeze → Concat": (b, conv) => {
    const n = b.op1("Gather", [b.op1("Shape", [conv]), b.int64([0], [])], { axis: 0 });
    return b.op1("Concat", [b.op1("Unsqueeze", [n, b.int64([0])]), minusOne(b)], { axis: 0 });
  },
  "Shape → Slice[0:1] → Concat": (b, conv) => {
    const n = b.op1("Slice", [b.op1("Shape", [conv]), b.int64([0]), b.int64([1])]);
    return b.op1("Concat", [n, minusOne(b)], { axis: 0 });
  },
};

for (const [name, target] of Object.entries(PROVED)) {
  test(`${name} → Reshape is proved batch-independent and equals onnxruntime at n = 1..4`, async () => {
    const file = viewModel(target).save();
    const net = await ie.readNetwork(file);
    const report = net.analyze();
    const reshape = report.layers.find((l) => l.type === "Reshape")!;
    assert.equal(report.supported, true, JSON.stringify(report.summary));
    assert.equal(reshape.verdict, "supported");
    assert.deepEqual(reshape.outputShape, ["N", 32]);
    net.batchSize = 4;
    const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const session = await ort.InferenceSession.create(file);
    const out = Object.keys(net.outputs)[0];
    for (const n of [1, 2, 3, 4]) {
      req.setBatch(n);
      const data = randomData(n * 48, 60 + n, -2, 2);
      req.setInput("x", data);
      req.getBlob(out).data.fill(NaN);
      await req.infer();
      const want = await session.run({ x: new ort.Tensor("float32", data, [n, 3, 4, 4]) });
      const err = maxRelDiff(req.getBlob(out).data, want[out].data as Float32Array);
      assert.ok(err <= 1e-5, `n=${n}: max error ${err}`);
    }
  });
}

const REFUSED: Record<string, [(b: OnnxBuilder, conv: string) => string, number, RegExp]> = {
  // torch.onnx.export with a traced batch of 1 writes the size as a constant.
  "a constant [1, -1] target": [(b) => b.int64([1, -1]), 32, /Reshape \[N,2,4,4\] → \[1,32N\]/],
  // The channels come from the shape, the batch is a constant 1: x.view(1, x.size(1), -1).
  "Concat of a constant 1 and Shape → Slice[1:2]": [
    (b, conv) => {
      const c = b.op1("Slice", [b.op1("Shape", [conv]), b.int64([1]), b.int64([2])]);
      return b.op1("Concat", [b.int64([1]), c, minusOne(b)], { axis: 0 });
    },
    16,
    /Reshape \[N,2,4,4\] → \[1,2,16N\]/,
  ],
};

for (const [name, [target, inner, reason]] of Object.entries(REFUSED)) {
  test(`${name} hard-codes the batch: the Reshape blocks the dynamic batch`, async () => {
    const net = await ie.readNetwork(viewModel(target, inner).save());
    const report = net.analyze();
    assert.equal(report.supported, false);
    const reshape = report.layers.find((l) => l.type === "Reshape")!;
    assert.equal(reshape.verdict, "unsupported");
    assert.match(reshape.reason, reason);
    // The Reshape is the first layer to block; what follows it is refused because of it.
    assert.equal(report.summary.blocking[0], reshape.name);
  });
}
