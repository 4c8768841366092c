/**
 * display(changes): fixForDynamicBatch()'s changes as their own bundle (JSON part equal to the
 * list, HTML and text fallbacks with before → after, a split's cut, tail and joins, and the proof or
 * the reason). The topology fallbacks' fix hints are test/display/fix_hint.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BATCH_FIX_MIME, CNNNetwork, IECore, toMimeBundle } from "../../kernel";
import { GraphBuilder } from "../helpers/graph_builder";
import { irPath } from "../helpers/models";

const EVIL = "<img src=x onerror=alert(1)>";

/** x [1,8] → Reshape [1,8] named `name` (fixable) → Add → out; and with `mix`, a [1,-1] over a batch-2 input (refused). */
function network(name: string, batch = 1): CNNNetwork {
  const b = new GraphBuilder("fixes");
  const x = b.param("x", [batch, 8]);
  const r = b.op("Reshape", [x, b.ints(batch === 1 ? [1, 8] : [1, -1])], { special_zero: false }, { name });
  b.result(b.op("Add", [r, b.constant([1], [1], "f32")], { auto_broadcast: "numpy" }), "out");
  return new CNNNetwork(b.build());
}

test("display(changes): an applied change shows before → after and its three proofs; the JSON part is the list", async () => {
  const { changes } = await network(EVIL).fixForDynamicBatch();
  const bundle = toMimeBundle(changes);
  assert.deepEqual(bundle[BATCH_FIX_MIME], changes);
  const text = bundle["text/plain"];
  assert.match(text, /1 of 1 layer\(s\) rewritten and proven/);
  assert.match(text, /Reshape \[1,8\] → Reshape \[-1,8\]/);
  assert.match(text, /same shapes as the original at its batch 1/);
  assert.match(text, /analysis: axis 0 stays N/);
  assert.match(text, /n=1: 0\.0e\+0, n=2: 0\.0e\+0, n=3: 0\.0e\+0, n=4: 0\.0e\+0/);
  const html = bundle["text/html"];
  assert.ok(!html.includes("<img"), "a layer name is text, never markup");
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  assert.match(html, /Reshape \[1,8\] → Reshape \[-1,8\]/);
  assert.match(html, />applied</);
});

test("display(changes): a refused change shows why; an empty list says there was nothing to change", async () => {
  const { changes } = await network("join", 2).fixForDynamicBatch();
  const text = toMimeBundle(changes)["text/plain"];
  assert.match(text, /0 of 1 layer\(s\) rewritten and proven, 1 left alone/);
  assert.match(text, /not applied: target \[1,-1\] has 1 on axis 0, not the model's batch 2/);
  assert.match(toMimeBundle(changes)["text/html"], />refused</);
  assert.equal(toMimeBundle([])["text/plain"], "fixForDynamicBatch: nothing to change");
});

/** conv → Softmax over axis 0 → 10 ReLUs → "scores" (a tail of 11 layers), and the conv's ReLU → "features" (body). */
function softmaxOverBatch(): CNNNetwork {
  const b = new GraphBuilder("softmax0");
  const conv = { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1", auto_pad: "explicit" };
  const c = b.op("Convolution", [b.param("x", [1, 2, 4, 4]), b.weights([3, 2, 3, 3])], conv, { name: "conv" });
  b.result(b.op("ReLU", [c], {}, { name: "relu" }), "features");
  let t = b.op("SoftMax", [c], { axis: 0 }, { name: "softmax_over_batch" });
  for (let i = 0; i < 10; i++) t = b.op("ReLU", [t], {}, { name: `tail${i}` });
  b.result(t, "scores");
  return new CNNNetwork(b.build());
}

test("display(changes): a split shows its cut tensors with shapes, the tail capped at 8 names, and each output's join", async () => {
  const { changes } = await softmaxOverBatch().fixForDynamicBatch();
  assert.deepEqual(
    changes.map((c) => [c.kind, c.applied]),
    [["split", true]],
  );
  const bundle = toMimeBundle(changes);
  for (const part of [bundle["text/plain"], bundle["text/html"]]) {
    assert.match(part, /split: body at batch n \+ per-sample tail of 11 layer\(s\)/);
    assert.match(part, /cut \(body → tail, per sample\): conv \[1,3,4,4\]/);
    assert.match(
      part,
      /tail \(11 layer\(s\), once per sample at batch 1\): softmax_over_batch, tail0, .*, tail6, … 3 more layers/,
    );
    assert.ok(!part.includes("tail7"), "the tail list is capped");
    assert.match(part, /output scores: from the tail, samples concatenated along axis 0/);
    assert.match(part, /output features: from the body at batch n/);
    assert.match(part, /max \|batch n − n batch-1 runs\|: n=1: /);
  }
});

test("display(changes): face-detection-adas-0001's split cuts before DetectionOutput and appends each sample's rows", async () => {
  const net = await new IECore().readNetwork(irPath("face-detection-adas-0001"));
  const text = toMimeBundle((await net.fixForDynamicBatch()).changes)["text/plain"];
  assert.match(text, /cut \(body → tail, per sample\): mbox_loc \[1,40448\], mbox_conf_flatten \[1,20224\]/);
  assert.match(text, /tail \(1 layer\(s\), once per sample at batch 1\): detection_out\n/);
  assert.match(
    text,
    /output detection_out\/sink_port_0: from the tail, each sample's detection rows appended, image_id set to the sample/,
  );
});

test("display([shape-aware, strict]) of a fixed network lists its changes once, with the first report", async () => {
  const { network: fixed } = await network("reshape").fixForDynamicBatch();
  const reports = [fixed.analyze({ mode: "shape-aware" }), fixed.analyze({ mode: "strict" })];
  assert.ok(reports.every((r) => r.fixes?.length === 1));
  const bundle = toMimeBundle(reports);
  const count = (s: string, what: string) => s.split(what).length - 1;
  assert.equal(count(bundle["text/plain"], "Changes by fixForDynamicBatch()"), 1);
  assert.equal(count(bundle["text/html"], "Changes by fixForDynamicBatch()"), 1);
  // The JSON part keeps both reports whole.
  const json = bundle["application/vnd.dynbatch.topology+json"] as { fixes?: unknown[]; alternate?: { fixes?: unknown[] } };
  assert.equal(json.fixes?.length, 1);
  assert.equal(json.alternate?.fixes?.length, 1);
});
