/** Generated bench models: cached ONNX files with a symbolic batch that ORT and dynbatch agree on. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { GENERATED_MODELS, generatedModelPath, IECore, NotFoundError } from "../../kernel";
import { ModelProtoType, OnnxModel } from "../../kernel/readers/onnx/proto";
import { maxRelDiff, randomData } from "../helpers/models";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-bench-models-"));

for (const name of Object.keys(GENERATED_MODELS)) {
  test(`${name}: written once to the cache, batch "N", ORT equals dynbatch at batch 2`, async (t) => {
    const file = generatedModelPath(name, dir);
    const mtime = fs.statSync(file).mtimeMs;
    assert.equal(generatedModelPath(name, dir), file);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    const m = ModelProtoType.decode(fs.readFileSync(file)) as unknown as OnnxModel;
    assert.equal(m.graph!.input[0].type!.tensor_type!.shape!.dim[0].dim_param, "N");

    const ie = new IECore();
    const net = await ie.readNetwork(file);
    net.batchSize = 2;
    const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const data = randomData(2 * 3 * 224 * 224, 5, 0, 1);
    req.setInput("input", data);
    await req.infer();
    const session = await ort.InferenceSession.create(file);
    const ref = (await session.run({ input: new ort.Tensor("float32", data, [2, 3, 224, 224]) })).logits;
    assert.deepEqual(ref.dims, [2, 1000]);
    const err = maxRelDiff(req.getBlob("logits").data, ref.data as Float32Array);
    t.diagnostic(`max error ${err}`);
    assert.ok(err <= 1e-4, `max error ${err}`);
  });
}

test("an unknown generated model is a NotFoundError", () => {
  assert.throws(() => generatedModelPath("vgg", dir), NotFoundError);
});
