/**
 * Samples for calibrating and checking the cascade's INT8 networks, from a video: whole frames for
 * face detection, and the face and eye crops an FP32 cascade cuts from them for landmarks, head
 * pose and eye state (the inputs those networks see in the seed scenario).
 */
import * as fs from "fs";
import * as path from "path";
import { InputError } from "../errors";
import { FaceCascade } from "../cascade/pipeline";
import { toPlanarBgr } from "../cascade/preprocess";
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { QuantizeOptions } from "../runtime/quantize";
import { readFrames } from "../video/decode";
import { loadAddon } from "../plugins/native";

/** Whether oneDNN's int8 kernels here sum u8·s8 products without a saturating 16-bit step (VNNI, AMX). */
export function hasVnni(): boolean {
  return /vnni|bf16|amx/.test(loadAddon().cpuIsa());
}

export const CASCADE_MODELS = {
  detection: "face-detection-adas-0001",
  landmarks: "landmarks-regression-retail-0009",
  headPose: "head-pose-estimation-adas-0001",
  eyes: "open-closed-eye-0001",
} as const;

export type CascadeStage = keyof typeof CASCADE_MODELS;

/** Input side of each secondary network (square crops), as the cascade cuts them. */
const CROP: Record<Exclude<CascadeStage, "detection">, number> = { landmarks: 48, headPose: 60, eyes: 32 };

export interface CascadeSamples {
  /** Per stage, one planar BGR sample per frame (detection) or per face / eye. */
  samples: Record<CascadeStage, Float32Array[]>;
  /** Frame size of the detection samples (for turning detections into pixels). */
  frameWidth: number;
  frameHeight: number;
}

export interface SampleOptions {
  /** Frames to take (default 24). */
  frames?: number;
  /** First frame (default 0). */
  start?: number;
  /** Take every k-th frame from `start` (default 5): neighbouring frames are nearly the same. */
  every?: number;
  /** Directory of the FP32 models (default: the bundled models/). */
  modelsDir?: string;
}

const DEFAULT_MODELS = path.resolve(__dirname, "../../../models");

/** Model file of a bundled-layout directory: DIR/NAME/FP16/NAME.xml. */
export function cascadeModelPath(dir: string, stage: CascadeStage): string {
  const name = CASCADE_MODELS[stage];
  return path.join(dir, name, "FP16", `${name}.xml`);
}

/** Frames and crops from `video` (see the file comment); the FP32 cascade finds the faces and eyes. */
export async function cascadeSamples(ie: IECore, video: string, opts: SampleOptions = {}): Promise<CascadeSamples> {
  const frames = opts.frames ?? 24;
  const every = opts.every ?? 5;
  if (!Number.isInteger(frames) || frames < 1) throw new InputError(`frames ${frames}: expected an integer ≥ 1`);
  if (!Number.isInteger(every) || every < 1) throw new InputError(`every ${every}: expected an integer ≥ 1`);
  const cascade = await FaceCascade.load(ie, { modelsDir: opts.modelsDir ?? DEFAULT_MODELS, strategies: ["dynamic"] });
  const det = (await ie.readNetwork(cascadeModelPath(opts.modelsDir ?? DEFAULT_MODELS, "detection"))).inputs;
  const [, , dh, dw] = Object.values(det)[0].shape;
  const out: CascadeSamples = {
    samples: { detection: [], landmarks: [], headPose: [], eyes: [] },
    frameWidth: 0,
    frameHeight: 0,
  };
  let k = 0;
  for await (const frame of readFrames(video, { start: opts.start ?? 0, maxFrames: frames * every })) {
    if (k++ % every !== 0) continue;
    out.frameWidth = frame.width;
    out.frameHeight = frame.height;
    out.samples.detection.push(toPlanarBgr(frame, { x: 0, y: 0, w: frame.width, h: frame.height }, dw, dh));
    const result = await cascade.processFrame(frame, frame.index);
    for (const f of result.faces) {
      out.samples.landmarks.push(toPlanarBgr(frame, f.box, CROP.landmarks, CROP.landmarks));
      out.samples.headPose.push(toPlanarBgr(frame, f.box, CROP.headPose, CROP.headPose));
      for (const e of f.eyes) out.samples.eyes.push(toPlanarBgr(frame, e.box, CROP.eyes, CROP.eyes));
    }
  }
  if (out.samples.detection.length === 0) throw new InputError(`${video}: no frames from frame ${opts.start ?? 0} on`);
  return out;
}

/**
 * The four cascade networks quantized on `calibration` (each stage on its own samples), written as
 * IR with FakeQuantize into `dir` in the bundled layout, so FaceCascade.load({ modelsDir: dir })
 * runs them. Returns the quantized networks.
 */
export async function quantizeCascade(
  ie: IECore,
  calibration: CascadeSamples,
  dir: string,
  opts: Omit<QuantizeOptions, "calibration"> & { modelsDir?: string } = {},
): Promise<Record<CascadeStage, CNNNetwork>> {
  const out: Partial<Record<CascadeStage, CNNNetwork>> = {};
  for (const stage of Object.keys(CASCADE_MODELS) as CascadeStage[]) {
    const samples = calibration.samples[stage];
    if (samples.length === 0)
      throw new InputError(`no ${stage} samples to calibrate ${CASCADE_MODELS[stage]} on: no faces found`);
    const net = await ie.readNetwork(cascadeModelPath(opts.modelsDir ?? DEFAULT_MODELS, stage));
    const { modelsDir: _unused, ...rest } = opts;
    const q = await net.quantize({
      // Head pose's only MatMuls are three 512→1 angle heads, about 1% of its time: in int8 (qmatmul)
      // they gained nothing measurable and moved pitch by 1.14° instead of 1.08° on the video.
      keepFp32: ["MatMul"],
      // Without VNNI only 7-bit weights run in int8 (see QuantizeOptions.overflowFix).
      overflowFix: !hasVnni(),
      ...rest,
      calibration: samples,
      samples: Math.min(opts.samples ?? samples.length, samples.length),
    });
    const file = cascadeModelPath(dir, stage);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    q.serialize(file);
    out[stage] = q;
  }
  return out as Record<CascadeStage, CNNNetwork>;
}
