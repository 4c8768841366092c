/**
 * Silero VAD v5 as PyTorch 2.9 exports it (opset 18, IR 10): the table's one recent-PyTorch file,
 * which stops at read on its int64 `sr` input. `sr` only feeds the condition of a top-level If
 * whose branches (16 kHz, 8 kHz) are plain graphs of ops dynbatch reads. Freezing `sr`, as
 * OpenVINO's convert_model does for an input given a value, turns the If into its taken branch.
 * This test applies that to the file for each rate and checks the result against onnxruntime on
 * the original file with that `sr`, at n = 1..4: the oracle for a reader that freezes inputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { ModelProtoType, OnnxModel } from "../../kernel/readers/onnx/proto";
import { blockingTypes } from "./check";
import { makeInput } from "./inputs";
import { MODEL_TABLE, modelPath } from "./table";

const SILERO = MODEL_TABLE.find((m) => /PyTorch 2\.9/.test(m.id))!;
/** Issue 16: max abs error ≤ 1e-4 of the output range. */
const TOLERANCE = 1e-4;
const AUDIO = { kind: "uniform", lo: -1, hi: 1 } as const;

/** Removes the `sr` input and the If it decides, keeping the branch `sr` selects; returns that branch's node count. */
function freezeRate(model: OnnxModel, rate: 16000 | 8000): number {
  const g = model.graph!;
  const branchIf = g.node.find((n) => n.op_type === "If");
  assert.ok(branchIf, "the top-level If on the sample rate");
  // The condition is Equal(sr, 16000): the 16 kHz model is the then branch.
  const branch = branchIf.attribute.find((a) => a.name === (rate === 16000 ? "then_branch" : "else_branch"))!.g!;
  // The branch's results take the If's output names, so the graph outputs stay "output" and "stateN".
  const rename = new Map(branch.output.map((o, i) => [o.name, branchIf.output[i]]));
  for (const n of branch.node) {
    n.input = n.input.map((v) => rename.get(v) ?? v);
    n.output = n.output.map((v) => rename.get(v) ?? v);
  }
  // What computed the condition from `sr` (Reshape → Gather → Equal) goes with it.
  const fromSr = new Set(["sr"]);
  for (const n of g.node) if (n.input.some((v) => fromSr.has(v))) n.output.forEach((o) => fromSr.add(o));
  g.node = [...g.node.filter((n) => n !== branchIf && !n.output.some((o) => fromSr.has(o))), ...branch.node];
  g.input = g.input.filter((v) => v.name !== "sr");
  return branch.node.length;
}

for (const [rate, window] of [
  [16000, 512 + 64],
  [8000, 256 + 32],
] as const) {
  test(`Silero VAD v5 (PyTorch 2.9, opset 18) with sr frozen at ${rate}: reads, is judged, and equals onnxruntime at n=1..4`, async (t) => {
    const original = modelPath(SILERO);
    const model = ModelProtoType.decode(fs.readFileSync(original)) as unknown as OnnxModel;
    assert.equal(freezeRate(model, rate), 43);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-silero-")), `silero_${rate}.onnx`);
    fs.writeFileSync(file, ModelProtoType.encode(model as never).finish());

    const ie = new IECore();
    const net = await ie.readNetwork(file);
    assert.deepEqual(net.inputs.input.shape, [-1, -1]);
    assert.deepEqual(net.inputs.state.shape, [2, -1, 128]);
    net.reshape({ input: [1, window], state: [2, 1, 128] });
    // `state` carries the batch on axis 1: both modes must refuse a dynamic batch.
    const strict = net.analyze({ mode: "strict" });
    const shapeAware = net.analyze();
    assert.equal(strict.supported, false);
    assert.equal(shapeAware.supported, false);
    assert.match(blockingTypes(shapeAware), /Gather/);
    t.diagnostic(`strict: no (${blockingTypes(strict)}); shape-aware: no (${blockingTypes(shapeAware)})`);

    const session = await ort.InferenceSession.create(original);
    const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(rate)]), []);
    const outputs = ["output", "stateN"];
    const maxAbs = new Map(outputs.map((o) => [o, 0]));
    const lo = new Map(outputs.map((o) => [o, Infinity]));
    const hi = new Map(outputs.map((o) => [o, -Infinity]));
    for (const n of [1, 2, 3, 4]) {
      // A static load per n: the analysis refuses setBatch.
      net.reshape({ input: [n, window], state: [2, n, 128] });
      const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
      const audio = makeInput(AUDIO, n, [window], 3000 + n);
      const state = makeInput(AUDIO, 2 * n, [128], 4000 + n);
      req.setInput("input", audio);
      req.setInput("state", state);
      for (const o of outputs) req.getBlob(o).data.fill(NaN);
      await req.infer();
      const want = await session.run({
        input: new ort.Tensor("float32", audio, [n, window]),
        state: new ort.Tensor("float32", state, [2, n, 128]),
        sr,
      });
      for (const o of outputs) {
        const got = req.getBlob(o).data;
        const w = want[o].data as Float32Array;
        assert.equal(got.length, w.length, `${o} at n=${n}`);
        for (let i = 0; i < w.length; i++) {
          const d = Math.abs(got[i] - w[i]);
          // NaN (a value never written) must fail.
          maxAbs.set(o, !(d <= maxAbs.get(o)!) ? (Number.isNaN(d) ? Infinity : d) : maxAbs.get(o)!);
          lo.set(o, Math.min(lo.get(o)!, w[i]));
          hi.set(o, Math.max(hi.get(o)!, w[i]));
        }
      }
    }
    for (const o of outputs) {
      const range = hi.get(o)! - lo.get(o)!;
      assert.ok(range > 0, `${o}: every value is ${lo.get(o)}`);
      const err = maxAbs.get(o)! / range;
      t.diagnostic(`${o}: max abs ${maxAbs.get(o)!.toExponential(2)}, range ${range.toPrecision(3)}, relative ${err.toExponential(2)}`);
      assert.ok(err <= TOLERANCE, `${o}: max abs error ${maxAbs.get(o)} is ${err} of the range ${range}`);
    }
  });
}
