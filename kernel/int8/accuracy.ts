/**
 * INT8 against FP32 on the cascade's samples (kernel/int8/calibration.ts), network by network on
 * identical inputs, with the measures: detections matched at IoU ≥ 0.5 (score > 0.5) for
 * recall and precision; the mean distance between landmark points, in units of the face box;
 * the mean absolute change of each head-pose angle; the share of eyes with the same open/closed
 * verdict.
 */
import { facesFrom } from "../cascade/faces";
import { Box } from "../cascade/preprocess";
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { CascadeSamples, CascadeStage } from "./calibration";

export interface Int8Accuracy {
  detection: { fp32Faces: number; int8Faces: number; matched: number; recall: number; precision: number };
  /** Mean and largest distance between FP32 and INT8 points, in face-box units. */
  landmarks: { faces: number; meanError: number; maxError: number };
  /** Mean absolute change in degrees. */
  headPose: { faces: number; yaw: number; pitch: number; roll: number };
  eyes: { eyes: number; agreement: number };
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  const inter = Math.max(0, w) * Math.max(0, h);
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** Greedy one-to-one matching, highest IoU first: how many of `a` find a partner in `b` at IoU ≥ `threshold`. */
export function matchBoxes(a: Box[], b: Box[], threshold = 0.5): number {
  const pairs: [number, number, number][] = [];
  a.forEach((x, i) => b.forEach((y, j) => pairs.push([iou(x, y), i, j])));
  pairs.sort((p, q) => q[0] - p[0]);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  for (const [v, i, j] of pairs) {
    if (v < threshold) break;
    if (usedA.has(i) || usedB.has(j)) continue;
    usedA.add(i);
    usedB.add(j);
  }
  return usedA.size;
}

/** Outputs `names` (default: every output) of `net`, loaded with a dynamic batch up to `limit`, on `samples`, concatenated per output. */
async function runAll(
  ie: IECore,
  net: CNNNetwork,
  samples: Float32Array[],
  limit: number,
  outputs?: string[],
): Promise<Record<string, Float32Array>> {
  const dynamic = limit > 1;
  const original = net.batchSize;
  net.batchSize = limit;
  const exec = await ie.loadNetwork(net, "CPU", dynamic ? { DYN_BATCH_ENABLED: "YES" } : {});
  net.batchSize = original;
  const req = exec.createInferRequest();
  const input = Object.keys(exec.inputs)[0];
  const names = outputs ?? Object.keys(exec.outputs);
  const parts: Record<string, Float32Array[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < samples.length; i += limit) {
    const chunk = samples.slice(i, i + limit);
    if (dynamic) req.setBatch(chunk.length);
    const blob = req.getBlob(input).data;
    chunk.forEach((s, k) => blob.set(s, k * s.length));
    await req.infer();
    for (const n of names) parts[n].push(Float32Array.from(req.getBlob(n).data));
  }
  return Object.fromEntries(
    names.map((n) => {
      const all = new Float32Array(parts[n].reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts[n]) {
        all.set(p, o);
        o += p.length;
      }
      return [n, all];
    }),
  );
}

/** Compares INT8 networks with their FP32 originals on `samples` (see the file comment). */
export async function int8Accuracy(
  ie: IECore,
  fp32: Record<CascadeStage, CNNNetwork>,
  int8: Record<CascadeStage, CNNNetwork>,
  data: CascadeSamples,
  batch = 8,
): Promise<Int8Accuracy> {
  const s = data.samples;
  const both = async (stage: CascadeStage, limit: number, outputs?: string[]) =>
    Promise.all([runAll(ie, fp32[stage], s[stage], limit, outputs), runAll(ie, int8[stage], s[stage], limit, outputs)]);

  const [dA, dB] = await both("detection", 1);
  const det = Object.values(dA)[0];
  const per = det.length / s.detection.length;
  let fp32Faces = 0;
  let int8Faces = 0;
  let matched = 0;
  for (let f = 0; f < s.detection.length; f++) {
    const faces = (d: Float32Array) => facesFrom(d.subarray(f * per, (f + 1) * per), data.frameWidth, data.frameHeight, 0.5);
    const a = faces(det);
    const b = faces(Object.values(dB)[0]);
    fp32Faces += a.length;
    int8Faces += b.length;
    matched += matchBoxes(a, b);
  }

  const [lA, lB] = await both("landmarks", batch);
  const pa = Object.values(lA)[0];
  const pb = Object.values(lB)[0];
  let sum = 0;
  let maxError = 0;
  for (let i = 0; i < pa.length; i += 2) {
    const d = Math.hypot(pa[i] - pb[i], pa[i + 1] - pb[i + 1]);
    sum += d;
    maxError = Math.max(maxError, d);
  }

  const [hA, hB] = await both("headPose", batch, ["fc_y", "fc_p", "fc_r"]);
  const angle = (name: string) => {
    const a = hA[name];
    const b = hB[name];
    return a.reduce((acc, v, i) => acc + Math.abs(v - b[i]), 0) / Math.max(1, a.length);
  };

  const [eA, eB] = await both("eyes", 2 * batch);
  const ea = Object.values(eA)[0];
  const eb = Object.values(eB)[0];
  let same = 0;
  for (let i = 0; i < ea.length; i += 2) if (ea[i + 1] > ea[i] === eb[i + 1] > eb[i]) same++;

  return {
    detection: {
      fp32Faces,
      int8Faces,
      matched,
      recall: fp32Faces ? matched / fp32Faces : 1,
      precision: int8Faces ? matched / int8Faces : 1,
    },
    landmarks: { faces: s.landmarks.length, meanError: pa.length ? sum / (pa.length / 2) : 0, maxError },
    headPose: { faces: s.headPose.length, yaw: angle("fc_y"), pitch: angle("fc_p"), roll: angle("fc_r") },
    eyes: { eyes: s.eyes.length, agreement: ea.length ? same / (ea.length / 2) : 1 },
  };
}

/** The accuracy table as text, with the bounds. */
export function formatAccuracy(a: Int8Accuracy): string {
  const d = a.detection;
  const h = a.headPose;
  const rows = [
    `face detection   recall ${d.recall.toFixed(3)}, precision ${d.precision.toFixed(3)} (${d.matched} of ${d.fp32Faces} FP32 / ${d.int8Faces} INT8 faces matched at IoU ≥ 0.5)   bound ≥ 0.97`,
    `landmarks        mean point change ${a.landmarks.meanError.toFixed(4)} of the face box (max ${a.landmarks.maxError.toFixed(4)}, ${a.landmarks.faces} faces)   bound ≤ 0.01`,
    `head pose        mean |Δ| yaw ${h.yaw.toFixed(2)}°, pitch ${h.pitch.toFixed(2)}°, roll ${h.roll.toFixed(2)}° (${h.faces} faces)   bound ≤ 2°`,
    `eye state        ${(a.eyes.agreement * 100).toFixed(1)}% agree (${a.eyes.eyes} eyes)   bound ≥ 98%`,
  ];
  return rows.join("\n");
}
