// exec.profile() on the GPU plugin (pocl when there is no GPU): the same report as on the CPU,
// every layer at every batch, the layers plus "outside layers" adding up to the request.
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore } from "../../kernel";
import { irPath } from "../helpers/models";
import { validateProfileReport } from "../display/validate";

test(
  "GPU profile of landmarks: every executed layer timed at every batch, totals adding up to the request",
  { skip: GPU_SKIP },
  async () => {
    const ie = new IECore();
    const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
    net.batchSize = 2;
    const exec = await ie.loadNetwork(net, "GPU", { DYN_BATCH_ENABLED: "YES" });
    const report = await exec.profile({ batches: [1, 2], runs: 3, warmup: 1 });
    assert.deepEqual(validateProfileReport(report), []);
    assert.equal(report.device, "GPU");
    assert.deepEqual(report.batches, [1, 2]);
    const req = exec.createInferRequest();
    await req.infer();
    const counts = req.getPerformanceCounts();
    assert.deepEqual(
      report.layers.map((l) => l.name),
      Object.keys(counts),
    );
    const executed = report.layers.filter((l) => counts[l.name].status === "EXECUTED");
    assert.ok(executed.length > 0);
    for (const l of executed) assert.equal(l.timeUs!.length, 2, l.name);
    assert.deepEqual(
      report.totals.map((t) => t.batch),
      [1, 2],
    );
    for (const t of report.totals) {
      assert.ok(t.layersUs > 0, `layers at n=${t.batch}`);
      assert.ok(Math.abs(t.layersUs + t.outsideUs - t.wallUs) <= 1e-6 * t.wallUs, `n=${t.batch} adds up`);
    }
  },
);
