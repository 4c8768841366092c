/** Landmarks loaded for the batcher tests, and the batch-1 oracle each batcher output is checked against. */
import assert from "node:assert/strict";
import { Blob, ExecutableNetwork, IECore } from "../../kernel";
import { irPath, maxRelDiff, numel } from "./models";

/** landmarks-regression-retail-0009 with a dynamic batch up to `limit`: the network, its input and one sample's size. */
export async function landmarks(limit: number): Promise<{ exec: ExecutableNetwork; input: string; size: number }> {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = limit;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const input = Object.keys(exec.inputs)[0];
  return { exec, input, size: numel(exec.inputs[input].shape.slice(1)) };
}

/** Asserts that `got` (one caller's outputs) equals a batch-1 run of `sample` on a plain request, within 1e-5. */
export async function checkAgainstBatch1(
  exec: ExecutableNetwork,
  input: string,
  sample: Float32Array,
  got: Record<string, Blob>,
): Promise<void> {
  const req = exec.createInferRequest();
  req.setBatch(1);
  req.setInput(input, sample);
  await req.infer();
  for (const name of Object.keys(exec.outputs)) {
    const err = maxRelDiff(got[name].data, req.getBlob(name).data);
    assert.ok(err <= 1e-5, `${name}: error ${err} against a batch-1 run`);
  }
}
