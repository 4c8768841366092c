/**
 * exec.profile() and its report builder. The builder and the fit are checked on made-up timings
 * with known fixed and per-sample parts (exact recovery) and on a hand-worked fit; one real
 * profile of landmarks is checked for structure only (no timing thresholds).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore, InputError } from "../../kernel";
import { buildProfile, fitLine, profileStats, ProfileSamples } from "../../kernel/bench";
import { precisionOf } from "../../kernel/bench/profile";
import { irPath } from "../helpers/models";
import { validateProfileReport } from "../display/validate";

test("fitLine: a hand-worked least-squares line and its R²", () => {
  // y = n² at n = 1, 2, 3: slope 4, intercept -10/3, residuals 1/3, -2/3, 1/3, SS_tot 294/9 → R² = 48/49.
  const f = fitLine([1, 2, 3], [1, 4, 9])!;
  assert.ok(Math.abs(f.perSampleUs - 4) < 1e-12);
  assert.ok(Math.abs(f.fixedUs + 10 / 3) < 1e-12);
  assert.ok(Math.abs(f.r2 - 48 / 49) < 1e-12);
  assert.deepEqual(fitLine([1, 2], [5, 5]), { fixedUs: 5, perSampleUs: 0, r2: 1 });
  assert.equal(fitLine([4, 4], [1, 2]), undefined);
  assert.throws(() => fitLine([1, 2], [1]), InputError);
});

test("profileStats: median, quartiles and range", () => {
  assert.deepEqual(profileStats([5, 1, 4, 2, 3]), { median: 3, p25: 2, p75: 4, min: 1, max: 5 });
});

/** Layer k takes fixed[k] + perSample[k]·n, give or take `jitter` on either side (the median stays exact). */
function synthetic(batches: number[], runs: number): ProfileSamples {
  const fixed = [30, 2, 0];
  const perSample = [5, 40, 0];
  const outside = (n: number) => 10 + 0.5 * n;
  return {
    model: "synthetic",
    device: "CPU",
    layers: [
      { name: "conv", type: "Convolution", execType: "jit:avx2" },
      { name: "fc", type: "MatMul", execType: "gemm:ref" },
      { name: "relu", type: "Relu", execType: "undef", fusedInto: "fc" },
    ],
    // Listed out of order on purpose: the report sorts the batches.
    batches: batches.map((n) => {
      const layerUs = Array.from({ length: runs }, (_, r) => {
        const jitter = ((r % 3) - 1) * 0.25;
        return fixed.map((f, k) => (k === 2 ? 0 : f + perSample[k] * n + jitter));
      });
      return { batch: n, layerUs, wallUs: layerUs.map((run) => run.reduce((a, b) => a + b, 0) + outside(n)) };
    }),
    graph: [
      { id: 0, name: "input", type: "Parameter", inputs: [] },
      { id: 1, name: "conv", type: "Convolution", inputs: [0] },
      { id: 2, name: "fc", type: "MatMul", inputs: [1] },
    ],
  };
}

test("buildProfile recovers known fixed and per-sample parts and splits the request's time", () => {
  const report = buildProfile(synthetic([4, 1, 16, 2], 9));
  assert.deepEqual(validateProfileReport(report), []);
  assert.deepEqual(report.batches, [1, 2, 4, 16]);
  assert.equal(report.runs, 9);
  const [conv, fc, relu] = report.layers;
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);
  close(conv.fit!.fixedUs, 30);
  close(conv.fit!.perSampleUs, 5);
  close(conv.fit!.r2, 1);
  close(fc.fit!.fixedUs, 2);
  close(fc.fit!.perSampleUs, 40);
  assert.deepEqual(
    conv.timeUs!.map((t) => [t.median, t.min, t.max]),
    [1, 2, 4, 16].map((n) => [30 + 5 * n, 29.75 + 5 * n, 30.25 + 5 * n]),
  );
  assert.equal(relu.fusedInto, "fc");
  assert.equal(relu.timeUs, undefined);
  assert.equal(relu.fit, undefined);
  assert.deepEqual([conv.node, fc.node, relu.node], [1, 2, undefined]);
  report.totals.forEach((t, k) => {
    const n = report.batches[k];
    close(t.layersUs, 32 + 45 * n);
    close(t.outsideUs, 10 + 0.5 * n);
    close(t.wallUs, 42 + 45.5 * n);
  });
});

test("buildProfile: one batch has no fit; inconsistent samples are typed errors naming the batch", () => {
  const one = buildProfile(synthetic([8], 3));
  assert.equal(one.layers[0].fit, undefined);
  assert.deepEqual(validateProfileReport(one), []);
  const bad = synthetic([1, 2], 3);
  bad.batches[1].layerUs[2] = [1];
  assert.throws(
    () => buildProfile(bad),
    (e: Error) => e instanceof InputError && /batch 2, run 2/.test(e.message),
  );
  assert.throws(() => buildProfile(synthetic([2, 2], 3)), InputError);
  assert.throws(() => buildProfile({ ...synthetic([1], 3), batches: [] }), InputError);
});

test("a real profile of landmarks: every layer at every batch, totals adding up to the request", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const report = await exec.profile({ batches: [1, 2, 4], runs: 3, warmup: 2 });
  assert.deepEqual(validateProfileReport(report), []);
  assert.deepEqual(report.batches, [1, 2, 4]);
  assert.equal(report.model, net.name);
  // The same layers, in the same order, as the performance counters of any request on the network.
  const req = exec.createInferRequest();
  await req.infer();
  const counts = req.getPerformanceCounts();
  assert.deepEqual(
    report.layers.map((l) => l.name),
    Object.keys(counts),
  );
  for (const l of report.layers) {
    const c = counts[l.name];
    assert.equal(l.execType, c.execType);
    // The CPU plugin's implementation names end in the precision, benchmark_app's way.
    assert.equal(l.precision, c.status === "EXECUTED" ? /_([A-Z0-9]+)$/.exec(c.execType)![1] : undefined, l.name);
    if (c.status === "EXECUTED") assert.equal(l.timeUs!.length, 3, l.name);
    else assert.equal(l.fusedInto, c.fusedInto, l.name);
  }
  assert.ok(report.layers.some((l) => l.type === "Convolution" && l.node !== undefined));
  assert.ok(report.graph!.some((n) => n.type === "Parameter"));
});

test("profile: bad batches and counts are typed errors naming the argument", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 2;
  const fixed = await ie.loadNetwork(net, "CPU");
  await assert.rejects(fixed.profile({ batches: [1] }), /needs a network loaded with DYN_BATCH_ENABLED/);
  await assert.rejects(fixed.profile({ batches: [3] }), (e: Error) => e instanceof InputError && /batch 3/.test(e.message));
  await assert.rejects(fixed.profile({ batches: [2], runs: 0 }), /runs must be an integer >= 1/);
  await assert.rejects(fixed.profile({ batches: [] }), /batches is empty/);
  const one = await fixed.profile({ runs: 2, warmup: 0 });
  assert.deepEqual(one.batches, [2]);
  assert.equal(one.graph, undefined);
});

test("precisionOf: the counter's own field, else the implementation name's suffix; none for a fused layer", () => {
  const c = {
    status: "EXECUTED" as const,
    layerType: "Convolution",
    execType: "jit_avx512_core_FP32",
    realTimeUs: 1,
    cpuTimeUs: 1,
  };
  assert.equal(precisionOf(c), "FP32");
  assert.equal(precisionOf({ ...c, execType: "brgconv_avx512_core_U8" }), "U8");
  assert.equal(precisionOf({ ...c, execType: "jit_avx512_core_FP32", precision: "U8" }), "U8");
  assert.equal(precisionOf({ ...c, execType: "conv" }), undefined, "the GPU plugin's names carry none");
  assert.equal(precisionOf({ ...c, status: "NOT_RUN", execType: "undef", fusedInto: "conv" }), undefined);
});

test("a run split by samples times each layer on its slowest thread (printed: n = 3 puts 2 samples on one thread)", async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES", CPU_PARALLEL: "SAMPLES", CPU_THREADS_NUM: "2" });
  const report = await exec.profile({ batches: [2, 3, 4], runs: 5, warmup: 3 });
  assert.deepEqual(validateProfileReport(report), []);
  for (const t of report.totals) assert.ok(Math.abs(t.layersUs + t.outsideUs - t.wallUs) < 1e-6 * t.wallUs);
  // With the first thread's share only, n = 3 (1 + 2 samples) read like n = 2 (1 + 1); with the
  // slowest thread's, like n = 4 (2 + 2). Timings: printed, not asserted.
  const [n2, n3, n4] = report.totals.map((t) => t.layersUs);
  console.log(
    `# samples split on 2 threads, layers µs: n=2 ${n2.toFixed(0)}, n=3 ${n3.toFixed(0)}, n=4 ${n4.toFixed(0)}; ` +
      `n3/n2 ${(n3 / n2).toFixed(2)}, n3/n4 ${(n3 / n4).toFixed(2)}; outside share ${report.totals.map((t) => `${((100 * t.outsideUs) / t.wallUs).toFixed(0)}%`).join(", ")}`,
  );
});
