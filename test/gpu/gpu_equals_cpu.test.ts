// Every bundled model on GPU against the CPU plugin (the oracle: itself checked against
// onnxruntime and batch-1 runs in test/runtime), at a static batch and at dynamic n = 1..4 and
// the limit, in a mixed order so stale state from a larger n would show (fresh samples and
// NaN-poisoned outputs for every run).
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { IECore, InferRequest } from "../../kernel";
import * as path from "path";
import { loadBgrPlanar } from "../../kernel/cli/image";
import { irPath, maxRelDiff, MEDIA, numel, OPEN_CLOSED_EYE_ONNX, randomData } from "../helpers/models";

const LIMIT = 8;

interface ModelCase {
  label: string;
  file: string;
  /** The topology allows a dynamic batch. */
  dynamic: boolean;
  /** Batch of the static comparison. */
  staticBatch: number;
  /** Input value range: the IR models take 0–255 pixels, the ONNX original normalised ones (255 overflows its exp). */
  range?: [number, number];
  /** The static comparison's input, when random data would not exercise the model (no faces, no detections). */
  input?: () => Float32Array;
}

const MODELS: ModelCase[] = [
  { label: "landmarks-regression-retail-0009", file: irPath("landmarks-regression-retail-0009"), dynamic: true, staticBatch: 2 },
  { label: "head-pose-estimation-adas-0001", file: irPath("head-pose-estimation-adas-0001"), dynamic: true, staticBatch: 2 },
  { label: "open-closed-eye-0001 FP16", file: irPath("open-closed-eye-0001"), dynamic: true, staticBatch: 2 },
  { label: "open-closed-eye-0001 FP32", file: irPath("open-closed-eye-0001", "FP32"), dynamic: true, staticBatch: 2 },
  { label: "open-closed-eye-0001 ONNX", file: OPEN_CLOSED_EYE_ONNX, dynamic: true, staticBatch: 2, range: [-1, 1] },
  {
    label: "face-detection-adas-0001 on media/faces.jpg",
    file: irPath("face-detection-adas-0001"),
    dynamic: false,
    staticBatch: 1,
    input: () => loadBgrPlanar(path.join(MEDIA, "faces.jpg"), 672, 384),
  },
];

/** Runs `data` after poisoning every output with NaN, so a run that writes nothing cannot pass on a previous result. */
async function outputsOf(req: InferRequest, input: string, data: Float32Array, names: string[]): Promise<Float32Array[]> {
  req.setInput(input, data);
  for (const o of names) req.getBlob(o).data.fill(NaN);
  await req.infer();
  return names.map((o) => Float32Array.from(req.getBlob(o).data));
}

function assertSame(gpu: Float32Array[], cpu: Float32Array[], names: string[], what: string): void {
  names.forEach((o, k) => {
    assert.equal(gpu[k].length, cpu[k].length, `${what} ${o}: length`);
    assert.ok(cpu[k].every(Number.isFinite), `${what} ${o}: the CPU result is not finite`);
    const err = maxRelDiff(gpu[k], cpu[k]);
    assert.ok(err <= 1e-4, `${what} ${o}: GPU differs from CPU by ${err}`);
  });
}

for (const m of MODELS) {
  test(`${m.label}: GPU equals CPU at static batch ${m.staticBatch}`, { skip: GPU_SKIP }, async () => {
    const ie = new IECore();
    const net = await ie.readNetwork(m.file);
    net.batchSize = m.staticBatch;
    const input = Object.keys(net.inputs)[0];
    const data = m.input?.() ?? randomData(numel(net.inputs[input].shape), 11, ...(m.range ?? [0, 255]));
    const [cpu, gpu] = await Promise.all(["CPU", "GPU"].map((d) => ie.loadNetwork(net, d)));
    assert.equal(gpu.device, "GPU");
    const names = Object.keys(cpu.outputs);
    assert.deepEqual(Object.keys(gpu.outputs), names);
    const want = await outputsOf(cpu.createInferRequest(), input, data, names);
    const got = await outputsOf(gpu.createInferRequest(), input, data, names);
    assertSame(got, want, names, `${m.label} static`);
    if (names.includes("detection_out")) {
      // Rows (image, label, score, box…) until image −1: the four faces are found with score > 0.5.
      const rows = got[names.indexOf("detection_out")];
      let faces = 0;
      for (let r = 0; r < rows.length / 7 && rows[r * 7] !== -1; r++) if (rows[r * 7 + 2] > 0.5) faces++;
      assert.equal(faces, 4);
    }
  });

  if (!m.dynamic) continue;
  test(`${m.label}: GPU equals CPU at dynamic n = 1..4 and ${LIMIT}`, { skip: GPU_SKIP }, async () => {
    const ie = new IECore();
    ie.setConfig({ DYN_BATCH_ENABLED: "YES" });
    const net = await ie.readNetwork(m.file);
    net.batchSize = LIMIT;
    const input = Object.keys(net.inputs)[0];
    const sample = numel(net.inputs[input].shape.slice(1));
    const cpu = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    const exec = await ie.loadNetwork(net, "GPU");
    assert.equal(exec.batchLimit, LIMIT);
    const names = Object.keys(exec.outputs);
    const gpu = exec.createInferRequest();
    // Fresh samples for every run: a revisited batch size must not find its answer left in the buffers.
    for (const [run, n] of [LIMIT, 1, 2, 3, 4, 2].entries()) {
      const data = randomData(n * sample, 50 + run, ...(m.range ?? [0, 255]));
      cpu.setBatch(n);
      gpu.setBatch(n);
      const want = await outputsOf(cpu, input, data, names);
      const got = await outputsOf(gpu, input, data, names);
      for (const o of names) assert.equal(gpu.getBlob(o).shape[0], n, `${o} axis 0 at batch ${n}`);
      assertSame(got, want, names, `${m.label} n=${n}`);
    }
  });
}
