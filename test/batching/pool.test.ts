/** requestPool: six concurrent callers on two batch-1 requests each get their own sample's outputs, equal to its row of one batch-6 run. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, IECore, requestPool } from "../../kernel";
import { irPath } from "../helpers/models";

test("requestPool: each caller's outputs equal its row of a batched run; bad arguments are ConfigErrors", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 6;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const size = 3 * 48 * 48;
  const all = Float32Array.from({ length: 6 * size }, (_, i) => (i * 7919) % 255);
  const req = exec.createInferRequest();
  req.setInput("0", all);
  await req.infer();
  const batched = Float32Array.from(req.getBlob("95").data);
  const run = requestPool(exec, 2);
  const got = await Promise.all(Array.from({ length: 6 }, (_, i) => run({ "0": all.subarray(i * size, (i + 1) * size) })));
  got.forEach((out, i) => {
    assert.equal(out["95"].length, 10);
    const row = batched.subarray(i * 10, (i + 1) * 10);
    for (let j = 0; j < 10; j++)
      assert.ok(Math.abs(out["95"][j] - row[j]) <= 1e-5 * Math.max(1, Math.abs(row[j])), `sample ${i}[${j}]`);
  });
  assert.throws(() => requestPool(exec, 0), ConfigError);
  net.batchSize = 1;
  const plain = await ie.loadNetwork(net, "CPU");
  assert.throws(() => requestPool(plain), ConfigError);
});
