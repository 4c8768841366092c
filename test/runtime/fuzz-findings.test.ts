/** Regression tests for what `npm run fuzz` found outside the readers, each minimized to a model of its own. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DynbatchError, IECore } from "../../kernel";
import { OnnxBuilder } from "../helpers/onnx_builder";

test("fuzz ir-shape: a MatMul whose weights are 1-D (legal, not implemented) is UNSUPPORTED_OP naming the layer, not NATIVE", async () => {
  // The fuzzer found it on head-pose's angle_p_fc (weights [1,512] -> [512]); the same edge case in a model of its own.
  const b = new OnnxBuilder();
  const x = b.input("x", [512]);
  b.output(b.op("MatMul", [x, b.weight([512])], {}, 1, "y")[0]);
  const ie = new IECore();
  const net = await ie.readNetwork(b.save());
  await assert.rejects(ie.loadNetwork(net, "CPU"), (e: unknown) => {
    assert.ok(e instanceof DynbatchError, String(e));
    assert.equal(e.code, "UNSUPPORTED_OP");
    assert.match(e.message, /MatMul with a 1-D operand/);
    assert.match(e.message, /\[512\]/);
    return true;
  });
});
