/**
 * ie.readNetwork(path, { freeze }): each named input becomes a constant of its declared element
 * type and shape and leaves the network's inputs; the result equals onnxruntime fed the same value.
 * IR freezes the same way (Parameter → Const). Bad names, counts and values are typed errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { IECore, InputError } from "../../kernel";
import { encode, FLOAT, INT64, node, valueInfo, write } from "../helpers/onnx_spec";
import { ONNX_DTYPE } from "../../kernel/readers/onnx/proto";

const X = Float32Array.from([0.5, -1, 2, 3, -0.25, 1.5]);
const B = [0.1, -2, 4];

/** y = x + Cast(b) * k: `b` is a float input declared [n] (a free dim); k an int64 input, cast to float. */
function addModel(): string {
  return write(
    encode({
      nodes: [
        node("Cast", ["k"], ["kf"], [{ name: "to", type: 2, i: FLOAT }]),
        node("Mul", ["b", "kf"], ["bk"]),
        node("Add", ["x", "bk"], ["y"]),
      ],
      inputs: [valueInfo("x", [2, 3]), valueInfo("b", ["n"]), valueInfo("k", [], INT64), valueInfo("u", [2], ONNX_DTYPE.UINT8)],
      outputs: [valueInfo("y", [2, 3])],
    }),
  );
}

async function run(ie: IECore, file: string, freeze: Record<string, number[]>): Promise<Float32Array> {
  const net = await ie.readNetwork(file, { freeze });
  assert.deepEqual(Object.keys(net.inputs), ["x"]);
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  req.setInput("x", X);
  req.getBlob("y").data.fill(NaN);
  await req.infer();
  return Float32Array.from(req.getBlob("y").data);
}

test("freeze: a float input with a free dim and an int64 scalar become constants; equals onnxruntime fed the same values", async () => {
  const file = addModel();
  const ie = new IECore();
  const got = await run(ie, file, { b: B, k: [3], u: [1, 2] });
  const session = await ort.InferenceSession.create(file);
  const want = (
    await session.run({
      x: new ort.Tensor("float32", X, [2, 3]),
      b: new ort.Tensor("float32", Float32Array.from(B), [3]),
      k: new ort.Tensor("int64", BigInt64Array.from([3n]), []),
      u: new ort.Tensor("uint8", Uint8Array.from([1, 2]), [2]),
    })
  ).y.data as Float32Array;
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-6, `y[${i}]: ${got[i]} vs ${want[i]}`);

  // The same network written as IR freezes there too (Parameter → Const).
  const free = await ie.readNetwork(file, { freeze: { k: [3], u: [1, 2] } });
  const xml = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-freeze-")), "m.xml");
  free.reshape({ b: [3] });
  free.serialize(xml);
  const fromIr = await run(ie, xml, { b: B });
  assert.deepEqual(Array.from(fromIr), Array.from(got));
  await assert.rejects(ie.readNetwork(xml, { freeze: { k: [3] } }), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.match(e.message, /m\.xml: freeze names 'k', which is not an input of the model \(inputs: x, b\)/);
    return true;
  });
});

test("freeze: a name that is not an input, a wrong value count, a value outside the dtype: InputError naming them", async () => {
  const file = addModel();
  const ie = new IECore();
  const rejects = (freeze: Record<string, unknown>, pattern: RegExp) =>
    assert.rejects(ie.readNetwork(file, { freeze: freeze as Record<string, number[]> }), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, /m\.onnx: freeze/);
      assert.match(e.message, pattern);
      return true;
    });
  await rejects({ kk: [3] }, /'kk', which is not an input of the model \(inputs: x, b, k, u\)/);
  await rejects({ k: [1, 2] }, /'k': 2 value\(s\) do not match its declared shape \[\] \(it holds 1\)/);
  await rejects({ x: [1, 2, 3] }, /'x': 3 value\(s\) do not match its declared shape \[2,3\] \(it holds 6\)/);
  await rejects({ b: [1, 2, 3, 4], x: [] }, /'x': 0 value\(s\)/);
  await rejects({ k: [1.5] }, /'k': 1\.5 does not fit the input's element type i64/);
  await rejects({ k: [3], u: [1, 256] }, /'u': 256 does not fit the input's element type u8 \(integers 0\.\.255\)/);
  await rejects({ k: 3 }, /'k': the value must be an array of numbers, got 3/);
  await rejects({ k: ["3"] }, /'k': the value must be an array of numbers/);
});
