/**
 * INT8 on the video (kernel/int8/): the cascade quantized on a few frames of media/faces.mp4 and
 * checked on other frames against FP32 with the bounds; each INT8 network also against the
 * FP32 FakeQuantize network of the same IR (CPU_INT8=NO) on the same crops; the interleaved speed
 * comparison returns one point per batch (times printed, not judged); the CLI flags.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CNNNetwork, IECore, InputError } from "../../kernel";
import { CASCADE_MODELS, cascadeModelPath, cascadeSamples, CascadeStage, quantizeCascade } from "../../kernel/int8/calibration";
import { formatAccuracy, int8Accuracy, iou, matchBoxes } from "../../kernel/int8/accuracy";
import { compareSpeed, formatSpeed } from "../../kernel/int8/speed";
import { parseArgs } from "../../kernel/cli/bench";
import { parseDemoArgs } from "../../kernel/cli/video";
import { MEDIA, MODELS } from "../helpers/models";

const VIDEO = path.join(MEDIA, "faces.mp4");
const STAGES = Object.keys(CASCADE_MODELS) as CascadeStage[];

test("int8 cascade on the video: detection recall and precision ≥ 0.97 against FP32; each network within a level of its FP32 FakeQuantize IR", async (t) => {
  const ie = new IECore();
  const calibration = await cascadeSamples(ie, VIDEO, { frames: 6 });
  assert.equal(calibration.samples.detection.length, 6);
  assert.ok(
    calibration.samples.landmarks.length > 0 && calibration.samples.eyes.length === 2 * calibration.samples.landmarks.length,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-int8-video-"));
  const int8 = await quantizeCascade(ie, calibration, dir);
  // Written in the bundled layout, so FaceCascade.load({ modelsDir }) finds them.
  for (const s of STAGES) assert.ok(fs.existsSync(cascadeModelPath(dir, s)), s);
  const check = await cascadeSamples(ie, VIDEO, { frames: 4, start: 2 });
  const fp32 = {} as Record<CascadeStage, CNNNetwork>;
  for (const s of STAGES) fp32[s] = await ie.readNetwork(cascadeModelPath(MODELS, s));
  const acc = await int8Accuracy(ie, fp32, int8, check);
  t.diagnostic(formatAccuracy(acc));
  assert.ok(acc.detection.fp32Faces > 0);
  assert.ok(acc.detection.recall >= 0.97 && acc.detection.precision >= 0.97, JSON.stringify(acc.detection));

  // The same INT8 IR with its FakeQuantize evaluated in FP32 is the reference of the int8 kernels.
  const landmarks = async (cfg: Record<string, string>) => {
    const net = await ie.readNetwork(cascadeModelPath(dir, "landmarks"));
    net.batchSize = 4;
    const req = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES", ...cfg })).createInferRequest();
    req.setBatch(4);
    const input = Object.keys(net.inputs)[0];
    check.samples.landmarks.slice(0, 4).forEach((s, k) => req.getBlob(input).data.set(s, k * s.length));
    await req.infer();
    return { data: Float32Array.from(req.getBlob(Object.keys(net.outputs)[0]).data), counts: req.getPerformanceCounts() };
  };
  const real = await landmarks({});
  const ref = await landmarks({ CPU_INT8: "NO" });
  const worst = real.data.reduce((m, v, i) => Math.max(m, Math.abs(v - ref.data[i])), 0);
  // Points in [0, 1] of the face box; one activation a level apart moves a point by ~1e-3.
  assert.ok(worst <= 0.01, `landmarks int8 vs FP32 FakeQuantize: ${worst}`);
  assert.ok(Object.values(ref.counts).every((c) => c.precision !== "U8"));
});

test("iou and matchBoxes: one-to-one matching at IoU ≥ 0.5", () => {
  const a = { x: 0, y: 0, w: 10, h: 10 };
  assert.equal(iou(a, a), 1);
  assert.equal(iou(a, { x: 5, y: 0, w: 10, h: 10 }), 50 / 150);
  assert.equal(iou(a, { x: 20, y: 20, w: 5, h: 5 }), 0);
  // Two boxes over one: only one pair.
  assert.equal(matchBoxes([a, { x: 1, y: 0, w: 10, h: 10 }], [a]), 1);
  assert.equal(matchBoxes([a], [{ x: 4, y: 0, w: 10, h: 10 }]), 0, "IoU 0.43");
});

test("compareSpeed: one interleaved point per batch with both medians; bad batches are BAD_INPUT", async (t) => {
  const ie = new IECore();
  const net = await ie.readNetwork(cascadeModelPath(MODELS, "landmarks"));
  const per = net.inputs[Object.keys(net.inputs)[0]].shape.slice(1).reduce((a, b) => a * b, 1);
  const q = await net.quantize({ calibration: [Float32Array.from({ length: per }, (_, i) => i % 255)] });
  const points = await compareSpeed(ie, net, q, [1, 3], { runs: 3, warmup: 2 });
  assert.deepEqual(
    points.map((p) => p.batch),
    [1, 3],
  );
  for (const p of points) assert.ok(p.fp32Ms > 0 && p.int8Ms > 0 && Math.abs(p.speedup - p.fp32Ms / p.int8Ms) < 1e-9);
  t.diagnostic(formatSpeed("landmarks", points));
  await assert.rejects(compareSpeed(ie, net, q, [0]), InputError);
});

test("--precision: bench and demo take fp32 or int8, anything else is BAD_INPUT", () => {
  assert.equal(parseArgs(["--precision", "int8"]).precision, "int8");
  assert.equal(parseArgs(["--precision", "FP32"]).precision, "fp32");
  assert.throws(() => parseArgs(["--precision", "int4"]), /--precision int4: expected fp32 or int8/);
  const demo = parseDemoArgs(["--precision", "int8", "--calibration-frames", "5"]);
  assert.ok(demo !== "help" && demo.precision === "int8" && demo.calibrationFrames === 5);
  assert.throws(() => parseDemoArgs(["--precision", "bf16"]), InputError);
  assert.throws(() => parseDemoArgs(["--calibration-frames", "0"]), InputError);
});
