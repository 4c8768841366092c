/**
 * transpose-keep-batch on ONNX attention blocks written the way torch exports `qkv.reshape(1, T, 3,
 * H, D).permute(2, 0, 3, 1, 4)` with a batch of 1: q, k and v taken by `unbind(0)` (Split, then
 * Squeeze) or by indexing (Gather with a scalar index). The fixed network, serialized to ONNX, runs
 * in onnxruntime at batch 3 and must equal onnxruntime on the original file, one sample at a time;
 * dynbatch runs the same fixed network, and its IR round trip, with a dynamic batch against the same oracle.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { uniform } from "../../kernel/random";
import { OnnxBuilder } from "../helpers/onnx_builder";

const T = 5;
const H = 2;
const D = 4;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-qkv-"));

/** x [1,T,3·H·D] → Reshape [1,T,3,H,D] → Transpose [2,0,3,1,4] → q,k,v → attention → Reshape [1,T,H·D]. */
function block(pick: "split" | "gather"): string {
  const o = new OnnxBuilder(13);
  o.inputDims("x", [1, T, 3 * H * D]);
  const qkv5 = o.op1("Reshape", ["x", o.int64([1, T, 3, H, D])]);
  const qkv = o.op1("Transpose", [qkv5], { perm: [2, 0, 3, 1, 4] });
  let parts: string[];
  if (pick === "split") {
    const s = o.op("Split", [qkv, o.int64([1, 1, 1])], { axis: 0 }, 3);
    parts = s.map((p) => o.op1("Squeeze", [p, o.int64([0])]));
  } else {
    parts = [0, 1, 2].map((i) => o.op1("Gather", [qkv, o.int64([i], [])], { axis: 0 }));
  }
  const [q, k, v] = parts;
  const scores = o.op1("MatMul", [q, o.op1("Transpose", [k], { perm: [0, 1, 3, 2] })]);
  const att = o.op1("MatMul", [o.op1("Softmax", [scores], { axis: -1 }), v]);
  const merged = o.op1("Transpose", [att], { perm: [0, 2, 1, 3] });
  o.op("Reshape", [merged, o.int64([1, T, H * D])], {}, 1, "y");
  o.output("y");
  return o.save(dir);
}

for (const pick of ["split", "gather"] as const) {
  test(`fixForDynamicBatch on a torch-style ONNX q/k/v split (${pick}): fixed, serialized and equal to onnxruntime per sample`, async () => {
    const file = block(pick);
    const ie = new IECore();
    const net = await ie.readNetwork(file);
    const { network, changes } = await net.fixForDynamicBatch();
    assert.deepEqual(
      changes.map((c) => [c.type, c.kind, c.applied, c.reason]),
      [
        ["Reshape", "reshape-keep-batch", true, ""],
        ["Transpose", "transpose-keep-batch", true, ""],
        ["Reshape", "reshape-keep-batch", true, ""],
      ],
    );
    assert.equal(network.analyze().supported, true);

    const per = T * 3 * H * D;
    const rand = uniform(pick === "split" ? 11 : 12);
    const xs = Float32Array.from({ length: 3 * per }, () => rand() * 2 - 1);
    const session = await ort.InferenceSession.create(file);
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await session.run({ x: new ort.Tensor("float32", xs.slice(i * per, (i + 1) * per), [1, T, 3 * H * D]) });
      want.push(...(out.y.data as Float32Array));
    }
    const close = (got: ArrayLike<number>, what: string) =>
      want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-5, `${what}, element ${i}: ${got[i]} vs ${w}`));

    const fixedFile = path.join(dir, `fixed-${pick}.onnx`);
    network.serialize(fixedFile);
    const fixed = await ort.InferenceSession.create(fixedFile);
    const batch3 = await fixed.run({ x: new ort.Tensor("float32", xs, [3, T, 3 * H * D]) });
    close(batch3[fixed.outputNames[0]].data as Float32Array, "onnxruntime on the fixed file at batch 3");

    // The fixed network itself, and read back from IR (the new Consts, a scalar Gather/Split axis).
    const irFile = path.join(dir, `fixed-${pick}.xml`);
    network.serialize(irFile);
    for (const [what, fixedNet] of [
      ["dynbatch", network],
      ["dynbatch on the fixed IR", await ie.readNetwork(irFile)],
    ] as const) {
      assert.equal(fixedNet.analyze().supported, true, what);
      fixedNet.batchSize = 4;
      const req = (await ie.loadNetwork(fixedNet, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
      req.setBatch(3);
      req.setInput("x", xs);
      await req.infer();
      close(req.getBlob(Object.keys(fixedNet.outputs)[0]).data, `${what} at setBatch(3)`);
    }
  });
}
