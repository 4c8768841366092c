/**
 * `--precision int8` for the demo and the bench: the cascade's networks quantized on the video
 * (frames for detection, the FP32 cascade's crops for the others), written to a temporary models
 * directory in the bundled layout, with the accuracy against FP32 on other frames of the video.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { InputError } from "../errors";
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { CASCADE_MODELS, cascadeModelPath, cascadeSamples, CascadeStage, hasVnni, quantizeCascade } from "../int8/calibration";
import { formatAccuracy, int8Accuracy } from "../int8/accuracy";

export type Precision = "fp32" | "int8";

export function parsePrecision(v: string | undefined): Precision {
  const p = (v ?? "fp32").toLowerCase();
  if (p !== "fp32" && p !== "int8") throw new InputError(`--precision ${v}: expected fp32 or int8`);
  return p;
}

export interface Int8Models {
  /** Models directory in the bundled layout holding the INT8 IRs. */
  dir: string;
  networks: Record<CascadeStage, CNNNetwork>;
  /** The accuracy table against FP32 (text). */
  accuracy: string;
}

const MODELS = path.resolve(__dirname, "../../../models");

/**
 * Quantizes the cascade on `frames` frames of `video` from `start` (every 5th), then measures the
 * accuracy on as many other frames (offset by 2, so none is a calibration frame). `log` gets progress lines.
 */
export async function prepareInt8(
  ie: IECore,
  video: string,
  opts: { frames: number; start: number; log?: (line: string) => void },
): Promise<Int8Models> {
  const log = opts.log ?? (() => undefined);
  let t = performance.now();
  const calibration = await cascadeSamples(ie, video, { frames: opts.frames, start: opts.start });
  const counts = Object.entries(calibration.samples).map(([k, v]) => `${v.length} ${k}`);
  log(
    `calibration samples from ${path.basename(video)}: ${counts.join(", ")} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  t = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-int8-"));
  const networks = await quantizeCascade(ie, calibration, dir);
  log(`quantized ${Object.keys(CASCADE_MODELS).length} networks in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const check = await cascadeSamples(ie, video, { frames: opts.frames, start: opts.start + 2 });
  const fp32 = {} as Record<CascadeStage, CNNNetwork>;
  for (const s of Object.keys(CASCADE_MODELS) as CascadeStage[]) fp32[s] = await ie.readNetwork(cascadeModelPath(MODELS, s));
  const accuracy = formatAccuracy(await int8Accuracy(ie, fp32, networks, check));
  return { dir, networks, accuracy };
}

/**
 * onnxruntime runs the QDQ export with its own int8 kernels, which round each layer's sum in
 * another order: an activation on a rounding boundary lands one level apart and later layers
 * carry it on. On the bench's noise inputs head pose's angles moved by up to 0.12 of the largest
 * one that way (while dynbatch's int8 and FP32 FakeQuantize networks agreed to 1e-6); the check
 * against onnxruntime allows that much and catches only gross errors. The exact reference of the
 * int8 kernels is the FP32 FakeQuantize network (CPU_INT8=NO), which the tests compare with.
 */
export const INT8_ORT_TOLERANCE = 0.25;

/**
 * FP32 and INT8 networks for the bench: the cascade's models calibrated on the video (`frames`
 * frames), any other on `randomSamples` uniform inputs in [0, 255).
 */
export async function benchNetworks(
  ie: IECore,
  models: [string, string][],
  opts: { video: string; frames: number; randomSamples?: number; log?: (line: string) => void },
): Promise<Map<string, { fp32: CNNNetwork; int8: CNNNetwork }>> {
  const out = new Map<string, { fp32: CNNNetwork; int8: CNNNetwork }>();
  const stages = Object.entries(CASCADE_MODELS) as [CascadeStage, string][];
  let cascade: Record<CascadeStage, CNNNetwork> | undefined;
  for (const [name, file] of models) {
    const fp32 = await ie.readNetwork(file);
    const stage = stages.find(([, m]) => m === name)?.[0];
    if (stage) {
      if (!cascade) {
        const samples = await cascadeSamples(ie, opts.video, { frames: opts.frames });
        cascade = await quantizeCascade(ie, samples, fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-int8-")));
        opts.log?.(`quantized the cascade's networks on ${opts.frames} frames of ${path.basename(opts.video)}`);
      }
      out.set(name, { fp32, int8: cascade[stage] });
      continue;
    }
    const input = Object.values(fp32.inputs)[0];
    const per = input.shape.slice(1).reduce((a, b) => a * b, 1);
    const count = opts.randomSamples ?? 8;
    const calibration = Array.from({ length: count }, (_, k) =>
      Float32Array.from({ length: per }, (_, i) => ((i + k) * 7919) % 255),
    );
    out.set(name, { fp32, int8: await fp32.quantize({ calibration, overflowFix: !hasVnni() }) });
    opts.log?.(`quantized ${name} on ${count} uniform random inputs`);
  }
  return out;
}
