/**
 * CPU_CONV_KERNELS: oneDNN's first-choice convolution kernels (NATIVE), its AVX2 ones (AVX2) and the
 * faster of the two measured at load (AUTO) compute the same outputs; AVX2 runs AVX2 kernels on
 * every CPU this project runs on (AVX2 or beyond).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, IECore } from "../../kernel";
import { irPath, maxRelDiff, numel, randomData } from "../helpers/models";

const BATCH = 3;
const MODEL = "landmarks-regression-retail-0009";

test(`${MODEL}: NATIVE, AVX2 and AUTO convolution kernels give the same outputs; AVX2 runs AVX2 convolutions`, async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath(MODEL));
  net.batchSize = BATCH;
  const input = Object.keys(net.inputs)[0];
  const output = Object.keys(net.outputs)[0];
  const data = randomData(BATCH * numel(net.inputs[input].shape.slice(1)), 5);
  const results = new Map<string, Float32Array>();
  for (const kernels of ["NATIVE", "AVX2", "AUTO"]) {
    const exec = await ie.loadNetwork(net, "CPU", { CPU_CONV_KERNELS: kernels });
    const req = exec.createInferRequest();
    req.setInput(input, data);
    req.getBlob(output).data.fill(NaN);
    await req.infer();
    results.set(kernels, Float32Array.from(req.getBlob(output).data));
    const convs = Object.values(req.getPerformanceCounts()).filter((c) => c.layerType === "Convolution" && c.status === "EXECUTED");
    assert.ok(convs.length > 0, "the network runs convolutions");
    if (kernels === "AVX2") for (const c of convs) assert.match(c.execType, /avx2/, `${c.execType} under AVX2`);
  }
  const reference = results.get("NATIVE")!;
  assert.ok(reference.every(Number.isFinite));
  // Other kernels sum in another order: float rounding only.
  for (const kernels of ["AVX2", "AUTO"]) assert.ok(maxRelDiff(results.get(kernels)!, reference) < 1e-5, kernels);
});

test("CPU_CONV_KERNELS takes AUTO, NATIVE or AVX2 (any case) and refuses anything else with BAD_CONFIG", () => {
  const ie = new IECore();
  for (const v of ["auto", "NATIVE", "Avx2"]) ie.setConfig({ CPU_CONV_KERNELS: v }, "CPU");
  assert.equal(ie.getConfig("CPU", "CPU_CONV_KERNELS"), "AVX2");
  for (const v of ["", "AVX512", "fast"]) {
    assert.throws(() => ie.setConfig({ KEY_CPU_CONV_KERNELS: v }, "CPU"), (e: unknown) => e instanceof ConfigError && e.code === "BAD_CONFIG");
  }
});
