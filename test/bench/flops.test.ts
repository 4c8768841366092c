/** FLOP counting on a hand-made graph and on the generated models, against counts worked out by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { countFlops, mobilenetV2Graph, resnet18Graph } from "../../kernel/bench";
import { prepare } from "../../kernel/graph/prepare";
import { GraphBuilder } from "../helpers/graph_builder";

test("conv, grouped conv, deconv and matmul: 2 FLOPs per multiply-add; other ops count nothing", () => {
  const b = new GraphBuilder();
  const x = b.param("x", [2, 4, 8, 8]);
  const pads = { strides: [1, 1], dilations: [1, 1], pads_begin: [1, 1], pads_end: [1, 1] };
  // [2,6,8,8] outputs, each a sum over 4·3·3 products: 768 · 36 MACs.
  b.result(b.op("Convolution", [x, b.weights([6, 4, 3, 3])], pads));
  // Groups of 2 input channels: 768 · 2·3·3.
  b.result(b.op("GroupConvolution", [x, b.weights([2, 3, 2, 3, 3])], pads));
  // Every input element (512) scatters into 5·2·2 outputs.
  b.result(
    b.op("ConvolutionBackpropData", [x, b.weights([4, 5, 2, 2])], {
      strides: [2, 2],
      dilations: [1, 1],
      pads_begin: [0, 0],
      pads_end: [0, 0],
    }),
  );
  const flat = b.op("Reshape", [x, b.ints([2, 256])], { special_zero: false });
  // [2,256] × [256,10]ᵀ-stored: 2·10 outputs of 256 products.
  b.result(b.op("MatMul", [flat, b.weights([10, 256])], { transpose_a: false, transpose_b: true }));
  // [2,16,16]ᵀ × [16,7]: K is the second-last axis of a transposed A: 2·16·7 outputs of 16 products.
  const cube = b.op("Reshape", [x, b.ints([2, 16, 16])], { special_zero: false });
  b.result(b.op("MatMul", [cube, b.weights([16, 7])], { transpose_a: true, transpose_b: false }));
  b.result(b.op("ReLU", [b.op("Add", [x, x], { auto_broadcast: "numpy" })]));
  const c = countFlops(prepare(b.build()));
  assert.deepEqual(c.byType, {
    Convolution: 2 * 768 * 36,
    GroupConvolution: 2 * 768 * 18,
    ConvolutionBackpropData: 2 * 512 * 20,
    MatMul: 2 * (2 * 10 * 256) + 2 * (2 * 16 * 7 * 16),
  });
  assert.equal(
    c.total,
    Object.values(c.byType).reduce((a, v) => a + v, 0),
  );
});

test("the count scales with the batch", () => {
  const g = resnet18Graph();
  assert.equal(countFlops(prepare(g, { batch: 4 })).total, 4 * countFlops(prepare(g, { batch: 1 })).total);
});

test("ResNet-18-shaped: 1,814,073,344 multiply-adds per sample, as published for ResNet-18", () => {
  // Per stage: output pixels · output channels · input channels · kernel area.
  const conv = (hw: number, cout: number, cin: number, k: number) => hw * hw * cout * cin * k * k;
  let macs = conv(112, 64, 3, 7) + 4 * conv(56, 64, 64, 3);
  for (const [hw, c] of [
    [28, 128],
    [14, 256],
    [7, 512],
  ])
    macs += conv(hw, c, c / 2, 3) + 3 * conv(hw, c, c, 3) + conv(hw, c, c / 2, 1);
  macs += 512 * 1000;
  assert.equal(macs, 1814073344);
  assert.equal(countFlops(prepare(resnet18Graph(), { batch: 1 })).total, 2 * macs);
});

test("MobileNetV2-shaped: the multiply-adds of MobileNetV2 1.0 at 224 (≈300 M)", () => {
  let hw = 112;
  let macs = 112 * 112 * 32 * 3 * 9;
  let cin = 32;
  for (const [t, c, n, s] of [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ]) {
    for (let i = 0; i < n; i++) {
      const hidden = cin * t;
      if (t !== 1) macs += hw * hw * hidden * cin; // 1×1 expansion
      if (i === 0) hw /= s;
      macs += hw * hw * hidden * 9 + hw * hw * c * hidden; // depthwise 3×3, 1×1 projection
      cin = c;
    }
  }
  macs += 7 * 7 * 1280 * 320 + 1280 * 1000;
  assert.ok(Math.abs(macs - 300e6) / 300e6 < 0.01, `${macs}`);
  assert.equal(countFlops(prepare(mobilenetV2Graph(), { batch: 1 })).total, 2 * macs);
});
