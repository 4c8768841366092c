import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { readModel } from "../../kernel/readers";
import { prepare } from "../../kernel/graph/prepare";
import { Graph, nodeMap } from "../../kernel/graph/graph";
import { MODELS } from "../helpers/models";

function irFiles(): string[] {
  const out: string[] = [];
  for (const model of fs.readdirSync(MODELS)) {
    const dir = path.join(MODELS, model);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const prec of fs.readdirSync(dir).filter((p) => /^FP/.test(p))) {
      for (const f of fs.readdirSync(path.join(dir, prec))) if (f.endsWith(".xml")) out.push(path.join(dir, prec, f));
    }
  }
  return out.sort();
}

/** Shapes the Results read, by Result name. */
function resultShapes(g: Graph): Record<string, number[]> {
  const byId = nodeMap(g);
  const out: Record<string, number[]> = {};
  for (const n of g.nodes.filter((x) => x.type === "Result")) {
    const ref = n.inputs[0];
    out[n.name] = byId.get(ref.node)!.outputs[ref.port].shape;
  }
  return out;
}

/** Final output shapes written in each IR at batch 1 and expected at batch 8 (OMZ model docs). */
const EXPECTED_BATCH8: Record<string, number[][]> = {
  "face-detection-adas-0001": [[1, 1, 1600, 7]], // DetectionOutput rows: 8 images × keep_top_k 200
  "head-pose-estimation-adas-0001": [
    [8, 1],
    [8, 1],
    [8, 1],
  ],
  "landmarks-regression-retail-0009": [[8, 10, 1, 1]],
  "open-closed-eye-0001": [[8, 2, 1, 1]],
};

const files = irFiles();

test("the shared IR models are present", () => {
  assert.ok(files.length >= 5, `found ${files.length} IR files under ${MODELS}`);
});

for (const file of files) {
  const model = path.basename(file, ".xml");
  test(`${path.relative(MODELS, file)}: every inferred shape equals the IR port dims`, () => {
    const fresh = readModel(file);
    const g = prepare(fresh);
    const reread = readModel(file);
    let compared = 0;
    g.nodes.forEach((n, i) => {
      const ir = reread.nodes[i];
      assert.equal(ir.id, n.id);
      n.outputs.forEach((o, p) => {
        assert.deepEqual(o.shape, ir.outputs[p].shape, `${n.type} '${n.name}' output ${p}`);
        compared++;
      });
    });
    assert.ok(compared > 10);
    // prepare() must leave the graph it was given untouched.
    fresh.nodes.forEach((n, i) => n.outputs.forEach((o, p) => assert.deepEqual(o.shape, reread.nodes[i].outputs[p].shape)));
  });

  test(`${path.relative(MODELS, file)}: batch 8 scales the outputs`, () => {
    const g8 = prepare(readModel(file), { batch: 8 });
    const shapes = Object.values(resultShapes(g8));
    assert.deepEqual(shapes, EXPECTED_BATCH8[model]);
  });
}

test("face-detection-adas-0001: PriorBox chains fold to constants of the IR-declared size", () => {
  const file = files.find((f) => f.includes("face-detection"))!;
  const g = prepare(readModel(file));
  const priors = g.nodes.filter((n) => n.type === "PriorBox");
  assert.equal(priors.length, 7);
  for (const n of priors) {
    assert.ok(n.folded, `${n.name} folded`);
    assert.deepEqual(n.folded![0].shape, n.outputs[0].shape);
    const v = n.folded![0].data;
    const half = v.length / 2;
    // second row: variances 0.1, 0.1, 0.2, 0.2 repeated
    assert.ok(Math.abs(v[half] - 0.1) < 1e-6 && Math.abs(v[half + 2] - 0.2) < 1e-6);
  }
  // First PriorBox (min 16, max 38.4, ratio 2, flip, step 16, offset .5) on the 384×672 image:
  // cell (0,0) centre (8, 8); square half 8 → [0, 0, 16/672, 16/384].
  const first = priors.find((n) => n.attrs.min_size === "16")!;
  const v = first.folded![0].data;
  const expect = [0, 0, 16 / 672, 16 / 384];
  expect.forEach((e, i) => assert.ok(Math.abs(v[i] - e) < 1e-6, `coord ${i}: ${v[i]} vs ${e}`));
  // second box: max size, half √(16·38.4)/2
  const h = Math.sqrt(16 * 38.4) / 2;
  [(8 - h) / 672, (8 - h) / 384, (8 + h) / 672, (8 + h) / 384].forEach((e, i) => assert.ok(Math.abs(v[4 + i] - e) < 1e-6));
});

test("open-closed-eye ONNX: output shape matches the IR conversion of the same model, and scales with batch", () => {
  const g = readModel(path.join(MODELS, "open-closed-eye-0001", "onnx", "open-closed-eye.onnx"));
  const ir = readModel(files.find((f) => f.includes("open-closed-eye") && f.includes("FP32"))!);
  assert.deepEqual(Object.values(resultShapes(prepare(g))), Object.values(resultShapes(ir)));
  assert.deepEqual(Object.values(resultShapes(prepare(g, { batch: 8 }))), [[8, 2, 1, 1]]);
});
