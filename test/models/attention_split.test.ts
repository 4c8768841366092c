/**
 * Why the PP-OCRv4 recognizer is refused, and the rewrite that would make it batchable. Its
 * attention splits q, k and v as PaddlePaddle and timm export it: Transpose [N,T,3,H,D] by
 * [2,0,3,1,4] to [3,N,H,T,D], then Slice [i:i+1] and Squeeze on axis 0. The batch sits on axis 1 in
 * between, which the shape-aware analysis (and the native runtime's batched tensors) do not allow.
 * The same values come from perm [0,2,3,1,4] and Slice/Squeeze on axis 1, with the batch on axis 0
 * throughout. This test applies that rewrite to the file and checks that the analysis then proves
 * the model and that setBatch(n) equals onnxruntime on the original file: the oracle for a
 * fixForDynamicBatch() rewrite of the pattern.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { ModelProtoType, OnnxAttribute, OnnxModel, toNum } from "../../kernel/readers/onnx/proto";
import { makeInput, REC_NORM } from "./inputs";
import { MODEL_TABLE, modelPath } from "./table";

const REC = MODEL_TABLE.find((m) => /recognizer/.test(m.id))!;

function ints(attrs: OnnxAttribute[], name: string): number[] | undefined {
  return attrs.find((a) => a.name === name)?.ints.map(toNum);
}

function setInts(attrs: OnnxAttribute[], name: string, values: number[]): void {
  attrs.find((a) => a.name === name)!.ints = values;
}

/** Rewrites every Transpose that moves the batch to axis 1 and feeds only Slice(axis 0) → Squeeze(axis 0); returns how many. */
function keepBatchFirst(model: OnnxModel): number {
  const nodes = model.graph!.node;
  const consumers = (out: string) => nodes.filter((n) => n.input.includes(out));
  let count = 0;
  for (const t of nodes.filter((n) => n.op_type === "Transpose")) {
    const perm = ints(t.attribute, "perm");
    if (!perm || perm[1] !== 0) continue;
    const slices = consumers(t.output[0]);
    const chain = slices.map((s) => [s, consumers(s.output[0])] as const);
    const fits = chain.every(
      ([s, sq]) =>
        s.op_type === "Slice" &&
        ints(s.attribute, "axes")?.join() === "0" &&
        sq.length === 1 &&
        sq[0].op_type === "Squeeze" &&
        ints(sq[0].attribute, "axes")?.join() === "0",
    );
    if (!fits || chain.length === 0) continue;
    setInts(t.attribute, "perm", [perm[1], perm[0], ...perm.slice(2)]);
    for (const [s, [sq]] of chain) {
      setInts(s.attribute, "axes", [1]);
      setInts(sq.attribute, "axes", [1]);
    }
    count++;
  }
  return count;
}

test("PP-OCRv4 recognizer: with its q/k/v split keeping the batch first, it is proved and setBatch(n) equals onnxruntime", async (t) => {
  const original = modelPath(REC);
  const model = ModelProtoType.decode(fs.readFileSync(original)) as unknown as OnnxModel;
  const rewritten = keepBatchFirst(model);
  assert.equal(rewritten, 2, "one q/k/v split per attention block");
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-svtr-")), "rec.onnx");
  fs.writeFileSync(file, ModelProtoType.encode(model as never).finish());

  const ie = new IECore();
  const shape = REC.quickShape!;
  const before = await ie.readNetwork(original, { shapes: { x: shape } });
  assert.equal(before.analyze().supported, false);
  const net = await ie.readNetwork(file, { shapes: { x: shape } });
  const report = net.analyze();
  assert.equal(report.supported, true, report.summary.blocking.join(", "));

  net.reshape({ x: [4, ...shape.slice(1)] });
  const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
  const session = await ort.InferenceSession.create(original);
  const out = Object.keys(net.outputs)[0];
  for (const n of [1, 2, 3, 4]) {
    req.setBatch(n);
    const data = makeInput(REC_NORM, n, shape.slice(1), 2000 + n);
    req.setInput("x", data);
    req.getBlob(out).data.fill(NaN);
    await req.infer();
    const want = (await session.run({ x: new ort.Tensor("float32", data, [n, ...shape.slice(1)]) }))[out].data as Float32Array;
    const got = req.getBlob(out).data;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    assert.ok(!got.some(Number.isNaN), `n=${n}: a row was not written`);
    // Softmax outputs: the range is [0, 1].
    assert.ok(maxAbs <= 1e-4, `n=${n}: max abs error ${maxAbs}`);
    t.diagnostic(`n=${n}: max abs error ${maxAbs.toExponential(2)}`);
  }
});
