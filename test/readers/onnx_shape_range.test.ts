/** ONNX Shape with opset 15's start/end (the legacy Silero VAD's Shape_29), against onnxruntime. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { IECore } from "../../kernel";
import { encode, FLOAT, int, node, valueInfo, write } from "../helpers/onnx_spec";

for (const [start, end] of [
  [1, -1],
  [-2, undefined],
  [undefined, 2],
  [-9, 9],
] as const) {
  test(`Shape start=${start} end=${end} equals onnxruntime`, async () => {
    const attrs = [...(start !== undefined ? [int("start", start)] : []), ...(end !== undefined ? [int("end", end)] : [])];
    const file = write(
      encode({
        nodes: [node("Shape", ["x"], ["s"], attrs, "shape"), node("Cast", ["s"], ["y"], [int("to", FLOAT)])],
        inputs: [valueInfo("x", [2, 3, 4, 5])],
        outputs: [valueInfo("y", ["k"])],
        opset: 15,
      }),
    );
    const x = new Float32Array(120);
    const session = await ort.InferenceSession.create(file);
    const want = Array.from((await session.run({ x: new ort.Tensor("float32", x, [2, 3, 4, 5]) })).y.data as Float32Array);
    const ie = new IECore();
    const net = await ie.readNetwork(file);
    const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    req.setInput("x", x);
    await req.infer();
    assert.deepEqual(Array.from(req.getBlob("y").data), want);
  });
}
