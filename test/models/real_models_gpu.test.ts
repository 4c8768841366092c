/**
 * The running models of the real-model table on the GPU plugin (pocl's CPU device when there is no
 * GPU), at the quick shapes: the same reads, verdicts and n = 1..4 runs, against onnxruntime.
 */
import { GPU_SKIP } from "../gpu/env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore } from "../../kernel";
import { checkModel } from "./check";
import { MODEL_TABLE } from "./table";

const ie = new IECore();

for (const m of MODEL_TABLE.filter((e) => !e.fails)) {
  test(`${m.id} on GPU equals onnxruntime at n = 1..4`, { skip: GPU_SKIP }, async (t) => {
    const row = await checkModel(ie, m, true, [1, 2, 3, 4], "GPU");
    assert.ok(row.range > 0, `${m.id}: every output is ${row.range}`);
    const err = row.maxAbs / row.range;
    t.diagnostic(`${row.mode}: max abs ${row.maxAbs.toExponential(2)}, relative ${err.toExponential(2)}, ${row.ms} ms`);
    assert.ok(err <= 1e-4, `${m.id} on GPU: max abs error ${row.maxAbs} is ${err} of the output range ${row.range}`);
  });
}
