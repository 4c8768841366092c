/**
 * The seed scenario per video frame: face-detection-adas-0001 at batch 1, then landmarks and head
 * pose on every face, then open/closed state on both eyes of every face. The number of faces
 * changes from frame to frame, which is what dynamic batching is for. The secondary stages run
 * with up to three strategies on identical inputs so their cost and outputs can be compared:
 *
 * - `dynamic`: one request per stage, networks loaded once with batchSize = maxFaces (2·maxFaces
 *   for eyes) and DYN_BATCH_ENABLED, `setBatch(faces)` per frame;
 * - `batch1`: networks at batch 1, one request per face (two per face for eyes);
 * - `padded`: the legacy workaround — networks at a static batch of maxFaces, every frame padded
 *   with blank crops to the full batch.
 *
 * Face detection itself cannot use a dynamic batch: DetectionOutput writes the detections of all
 * images into one list (shape-aware analysis rejects it), so it always runs as a static batch 1.
 */
import * as path from "path";
import { InputError } from "../errors";
import { IECore } from "../runtime/core";
import { InferRequest } from "../runtime/request";
import { Frame } from "../video/frame";
import { annotate } from "./annotate";
import { Face, facesFrom } from "./faces";
import { Box, toPlanarBgr } from "./preprocess";

export type Strategy = "dynamic" | "batch1" | "padded";
export const STRATEGIES: readonly Strategy[] = ["dynamic", "batch1", "padded"];
export const STRATEGY_LABELS: Record<Strategy, string> = {
  dynamic: "dynamic batch: setBatch(faces)",
  batch1: "one batch-1 request per face",
  padded: "static batch padded to maxFaces",
};

const DEFAULT_MODELS = path.resolve(__dirname, "../../../models");

interface StageSpec {
  model: string;
  /** Square input side in pixels. */
  size: number;
  outputs: string[];
}

const DETECTOR = "face-detection-adas-0001";
const LANDMARKS: StageSpec = { model: "landmarks-regression-retail-0009", size: 48, outputs: ["95"] };
const HEAD_POSE: StageSpec = { model: "head-pose-estimation-adas-0001", size: 60, outputs: ["fc_y", "fc_p", "fc_r"] };
const EYES: StageSpec = { model: "open-closed-eye-0001", size: 32, outputs: ["19"] };
/** Input sides of landmarks and head pose, for callers that crop faces themselves (streams.ts). */
export const LANDMARKS_SIZE = LANDMARKS.size;
export const HEAD_POSE_SIZE = HEAD_POSE.size;

/** One secondary network, loaded once per strategy. */
class Stage {
  private constructor(
    readonly spec: StageSpec,
    /** Samples per request for `dynamic` and `padded` (maxFaces, or 2·maxFaces for eyes). */
    readonly limit: number,
    private readonly input: string,
    /** Values per sample of each output. */
    private readonly outSizes: number[],
    private readonly requests: Partial<Record<Strategy, InferRequest>>,
  ) {}

  static async load(
    ie: IECore,
    spec: StageSpec,
    xml: string,
    device: string,
    limit: number,
    strategies: readonly Strategy[],
  ): Promise<Stage> {
    const requests: Partial<Record<Strategy, InferRequest>> = {};
    let input = "";
    let outSizes: number[] = [];
    for (const s of strategies) {
      const net = await ie.readNetwork(xml);
      net.batchSize = s === "batch1" ? 1 : limit;
      const exec = await ie.loadNetwork(net, device, s === "dynamic" ? { DYN_BATCH_ENABLED: "YES" } : {});
      requests[s] = exec.createInferRequest();
      input = Object.keys(exec.inputs)[0];
      outSizes = spec.outputs.map((o) => {
        const shape = requests[s]!.getBlob(o).shape;
        return shape.slice(1).reduce((a, b) => a * b, 1);
      });
    }
    return new Stage(spec, limit, input, outSizes, requests);
  }

  get sampleSize(): number {
    return 3 * this.spec.size * this.spec.size;
  }

  /** Runs `n` samples of `inputs` with `strategy`; returns each output as n × its per-sample size, and the infer calls made. */
  async run(strategy: Strategy, inputs: Float32Array, n: number): Promise<{ outputs: Float32Array[]; requests: number }> {
    const req = this.requests[strategy];
    if (!req) throw new InputError(`strategy '${strategy}' was not loaded`);
    const S = this.sampleSize;
    const outputs = this.outSizes.map((k) => new Float32Array(n * k));
    const collect = (first: number, count: number) =>
      this.spec.outputs.forEach((o, j) =>
        outputs[j].set(req.getBlob(o).data.subarray(0, count * this.outSizes[j]), first * this.outSizes[j]),
      );
    if (strategy === "batch1") {
      for (let i = 0; i < n; i++) {
        req.setInput(this.input, inputs.subarray(i * S, (i + 1) * S));
        await req.infer();
        collect(i, 1);
      }
      return { outputs, requests: n };
    }
    if (strategy === "dynamic") {
      req.setBatch(n);
      req.setInput(this.input, inputs.subarray(0, n * S));
    } else {
      const blob = req.getBlob(this.input).data;
      blob.set(inputs.subarray(0, n * S));
      blob.fill(0, n * S);
    }
    await req.infer();
    collect(0, n);
    return { outputs, requests: 1 };
  }
}

/** Faces per frame by default: the batch the secondary stages are loaded for (eyes: twice as many). */
const DEFAULT_MAX_FACES = 8;
/** Detection confidence kept by default: the usual cut for an SSD detector's scores. */
const DEFAULT_THRESHOLD = 0.5;

export interface CascadeOptions {
  /** Device for every network (default "CPU"). */
  device?: string;
  /** Most faces per frame handled (the batch limit); extra faces, lowest confidence first, are dropped. Default 8. */
  maxFaces?: number;
  /** Minimum detection confidence (default 0.5). */
  threshold?: number;
  /** Folder holding the four model folders (default: the bundled models/). */
  modelsDir?: string;
  /** Strategies to load and run per frame (default all three); the first one's outputs become the results. */
  strategies?: readonly Strategy[];
}

export interface EyeResult {
  /** Crop given to open-closed-eye-0001, in frame pixels. */
  box: Box;
  open: boolean;
  /** Softmax probability of "open" (output channel 1). */
  openProbability: number;
}

export interface FaceResult {
  box: Box;
  confidence: number;
  /** Five points in frame pixels: left eye, right eye, nose tip, left and right mouth corner. */
  landmarks: [number, number][];
  /** Degrees. */
  headPose: { yaw: number; pitch: number; roll: number };
  /** Left, then right eye (the person's). */
  eyes: [EyeResult, EyeResult];
}

/** Raw outputs of the secondary networks for the faces of one frame, in face order. */
export interface CascadeOutputs {
  /** faces × 10: landmark x, y pairs normalised to the face box. */
  landmarks: Float32Array;
  yaw: Float32Array;
  pitch: Float32Array;
  roll: Float32Array;
  /** 2·faces × 2: per eye (left, right of each face), the probabilities [closed, open]. */
  eyes: Float32Array;
}

export interface StrategyRun {
  strategy: Strategy;
  /** Milliseconds per stage (input copy + inference) and their sum. */
  ms: { landmarks: number; headPose: number; eyes: number; total: number };
  /** infer() calls made. */
  requests: number;
  /** Samples the networks computed, padding included. */
  samples: number;
  outputs: CascadeOutputs;
}

/** Milliseconds of one frame's work outside the networks, common to every strategy (decoding is the caller's). */
export interface OutsideTimes {
  /** The frame's bytes to the detector's input: float planes resized to its 672×384. */
  resize: number;
  /** Face and eye crops resized into the secondary networks' inputs, with the eye boxes. */
  crops: number;
  /** Detections, landmarks and the other outputs turned into faces. */
  parse: number;
  /** Drawing the results onto the frame (processFrame's `annotate` option; 0 without it). */
  draw: number;
  /** resize + crops + parse + draw. */
  total: number;
}

export interface FrameResult {
  index: number;
  faces: FaceResult[];
  /** Face detection, batch 1 (common to every strategy), with its input resize and the parsing of its output. */
  detectMs: number;
  /** Cropping and resizing the faces and eyes (common to every strategy); the same as outsideMs.crops. */
  cropMs: number;
  outsideMs: OutsideTimes;
  /** One entry per strategy, in the order of CascadeOptions.strategies. */
  runs: StrategyRun[];
}

export interface ProcessOptions {
  /** Also draw the results onto `frame` with annotate(), timed as outsideMs.draw. */
  annotate?: boolean;
}

/** Side of an eye crop per pixel of distance between the eyes: crops scale with the face. */
const EYE_CROP_PER_EYE_DISTANCE = 0.6;
/** Smallest eye crop side (px): a face seen edge-on, its eyes on one spot, still gives a crop to resize. */
const MIN_EYE_CROP = 4;

/** Square eye crop centred on the eye landmark; its side follows the distance between the eyes. */
export function eyeBox(eye: [number, number], otherEye: [number, number]): Box {
  const side = Math.max(MIN_EYE_CROP, EYE_CROP_PER_EYE_DISTANCE * Math.hypot(eye[0] - otherEye[0], eye[1] - otherEye[1]));
  return { x: eye[0] - side / 2, y: eye[1] - side / 2, w: side, h: side };
}

export class FaceCascade {
  /**
   * Faces found in each frame detected so far, in order (after the threshold and maxFaces): a
   * recording that streamArrivals() replays as "K cameras at F fps, faces as in this video".
   */
  readonly faceCounts: number[] = [];
  /** Crop inputs of the secondary networks, reused from frame to frame: room for maxFaces faces and their eyes. */
  private readonly landmarksIn: Float32Array;
  private readonly headPoseIn: Float32Array;
  private readonly eyesIn: Float32Array;

  private constructor(
    readonly device: string,
    readonly maxFaces: number,
    readonly threshold: number,
    readonly strategies: readonly Strategy[],
    private readonly detector: InferRequest,
    private readonly detectorInput: { name: string; width: number; height: number },
    private readonly landmarks: Stage,
    private readonly headPose: Stage,
    private readonly eyes: Stage,
  ) {
    this.landmarksIn = new Float32Array(landmarks.limit * landmarks.sampleSize);
    this.headPoseIn = new Float32Array(headPose.limit * headPose.sampleSize);
    this.eyesIn = new Float32Array(eyes.limit * eyes.sampleSize);
  }

  /** Reads and compiles the four networks once (the secondary ones once per strategy). */
  static async load(ie: IECore, options: CascadeOptions = {}): Promise<FaceCascade> {
    const device = options.device ?? "CPU";
    const maxFaces = options.maxFaces ?? DEFAULT_MAX_FACES;
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    const strategies = options.strategies ?? STRATEGIES;
    if (!Number.isInteger(maxFaces) || maxFaces < 1) throw new InputError(`maxFaces ${maxFaces}: expected an integer ≥ 1`);
    if (
      strategies.length === 0 ||
      strategies.some((s) => !STRATEGIES.includes(s)) ||
      new Set(strategies).size !== strategies.length
    )
      throw new InputError(`strategies [${strategies.join(", ")}]: expected distinct names among ${STRATEGIES.join(", ")}`);
    const dir = options.modelsDir ?? DEFAULT_MODELS;
    const xml = (model: string) => path.join(dir, model, "FP16", `${model}.xml`);
    const det = await ie.loadNetwork(await ie.readNetwork(xml(DETECTOR)), device);
    const [name, info] = Object.entries(det.inputs)[0];
    const stage = (spec: StageSpec, limit: number) => Stage.load(ie, spec, xml(spec.model), device, limit, strategies);
    return new FaceCascade(
      device,
      maxFaces,
      threshold,
      strategies,
      det.createInferRequest(),
      { name, width: info.shape[3], height: info.shape[2] },
      await stage(LANDMARKS, maxFaces),
      await stage(HEAD_POSE, maxFaces),
      await stage(EYES, 2 * maxFaces),
    );
  }

  /** Faces in `frame` with confidence ≥ threshold, at most maxFaces, highest confidence first. */
  async detect(frame: Frame): Promise<Face[]> {
    return (await this.detectTimed(frame)).faces;
  }

  /** detect(), with the milliseconds of its input resize and of parsing its output. */
  private async detectTimed(frame: Frame): Promise<{ faces: Face[]; resizeMs: number; parseMs: number }> {
    const { name, width, height } = this.detectorInput;
    let t = performance.now();
    toPlanarBgr(frame, { x: 0, y: 0, w: frame.width, h: frame.height }, width, height, this.detector.getBlob(name).data);
    const resizeMs = performance.now() - t;
    await this.detector.infer();
    t = performance.now();
    const faces = facesFrom(this.detector.getBlob("detection_out").data, frame.width, frame.height, this.threshold)
      .sort((a, b) => b.conf - a.conf)
      .slice(0, this.maxFaces);
    this.faceCounts.push(faces.length);
    return { faces, resizeMs, parseMs: performance.now() - t };
  }

  /**
   * Runs the whole cascade on one frame. Every strategy gets the same crops; the eye crops come
   * from the first strategy's landmarks. Strategies take turns going first from frame to frame so
   * that none always runs on warm caches.
   */
  async processFrame(frame: Frame, index = 0, options: ProcessOptions = {}): Promise<FrameResult> {
    let t = performance.now();
    const { faces, resizeMs, parseMs } = await this.detectTimed(frame);
    const detectMs = performance.now() - t;
    const outsideMs: OutsideTimes = { resize: resizeMs, crops: 0, parse: parseMs, draw: 0, total: 0 };
    const n = faces.length;
    const order = this.strategies.map((_, k) => this.strategies[(k + index) % this.strategies.length]);
    const runs = new Map<Strategy, StrategyRun>();
    for (const s of this.strategies) {
      const empty = new Float32Array(0);
      runs.set(s, {
        strategy: s,
        ms: { landmarks: 0, headPose: 0, eyes: 0, total: 0 },
        requests: 0,
        samples: 0,
        outputs: { landmarks: empty, yaw: empty, pitch: empty, roll: empty, eyes: empty },
      });
    }
    const finish = (results: FaceResult[]): FrameResult => {
      const result = {
        index,
        faces: results,
        detectMs,
        cropMs: outsideMs.crops,
        outsideMs,
        runs: this.strategies.map((s) => runs.get(s)!),
      };
      if (options.annotate) {
        const t0 = performance.now();
        annotate(frame, result);
        outsideMs.draw = performance.now() - t0;
      }
      outsideMs.total = outsideMs.resize + outsideMs.crops + outsideMs.parse + outsideMs.draw;
      return result;
    };
    if (n === 0) return finish([]);

    t = performance.now();
    faces.forEach((f, i) => {
      toPlanarBgr(frame, f, LANDMARKS.size, LANDMARKS.size, this.landmarksIn, i * this.landmarks.sampleSize);
      toPlanarBgr(frame, f, HEAD_POSE.size, HEAD_POSE.size, this.headPoseIn, i * this.headPose.sampleSize);
    });
    outsideMs.crops += performance.now() - t;

    const timed = async (
      run: StrategyRun,
      stage: Stage,
      key: "landmarks" | "headPose" | "eyes",
      inputs: Float32Array,
      count: number,
    ) => {
      const t0 = performance.now();
      const r = await stage.run(run.strategy, inputs, count);
      run.ms[key] = performance.now() - t0;
      run.requests += r.requests;
      run.samples += run.strategy === "padded" ? stage.limit : count;
      return r.outputs;
    };
    for (const s of order) {
      const run = runs.get(s)!;
      [run.outputs.landmarks] = await timed(run, this.landmarks, "landmarks", this.landmarksIn, n);
      [run.outputs.yaw, run.outputs.pitch, run.outputs.roll] = await timed(run, this.headPose, "headPose", this.headPoseIn, n);
    }

    const ref = runs.get(this.strategies[0])!.outputs;
    t = performance.now();
    const points = faces.map((f, i) =>
      Array.from({ length: 5 }, (_, k): [number, number] => [
        f.x + ref.landmarks[i * 10 + 2 * k] * f.w,
        f.y + ref.landmarks[i * 10 + 2 * k + 1] * f.h,
      ]),
    );
    outsideMs.parse += performance.now() - t;
    t = performance.now();
    const eyeBoxes = points.flatMap((p) => [eyeBox(p[0], p[1]), eyeBox(p[1], p[0])]);
    eyeBoxes.forEach((b, i) => toPlanarBgr(frame, b, EYES.size, EYES.size, this.eyesIn, i * this.eyes.sampleSize));
    outsideMs.crops += performance.now() - t;
    for (const s of order) {
      const run = runs.get(s)!;
      [run.outputs.eyes] = await timed(run, this.eyes, "eyes", this.eyesIn, 2 * n);
      run.ms.total = run.ms.landmarks + run.ms.headPose + run.ms.eyes;
    }

    t = performance.now();
    const results: FaceResult[] = faces.map((f, i) => {
      const eye = (k: number): EyeResult => {
        const [closed, open] = [ref.eyes[(2 * i + k) * 2], ref.eyes[(2 * i + k) * 2 + 1]];
        return { box: eyeBoxes[2 * i + k], open: open > closed, openProbability: open };
      };
      return {
        box: { x: f.x, y: f.y, w: f.w, h: f.h },
        confidence: f.conf,
        landmarks: points[i],
        headPose: { yaw: ref.yaw[i], pitch: ref.pitch[i], roll: ref.roll[i] },
        eyes: [eye(0), eye(1)],
      };
    });
    outsideMs.parse += performance.now() - t;
    return finish(results);
  }
}

export interface StrategySummary {
  strategy: Strategy;
  frames: number;
  faces: number;
  requests: number;
  samples: number;
  /** Secondary stages only (detection and cropping are common to every strategy). */
  totalMs: number;
  meanMs: number;
  medianMs: number;
  /** Frames whose time was the lowest among the strategies. */
  wins: number;
}

/** Per-strategy totals over frames processed by one cascade. */
export function summarize(frames: FrameResult[]): StrategySummary[] {
  if (frames.length === 0) return [];
  const strategies = frames[0].runs.map((r) => r.strategy);
  return strategies.map((strategy, k) => {
    const times = frames.map((f) => f.runs[k].ms.total);
    const sorted = [...times].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return {
      strategy,
      frames: frames.length,
      faces: frames.reduce((a, f) => a + f.faces.length, 0),
      requests: frames.reduce((a, f) => a + f.runs[k].requests, 0),
      samples: frames.reduce((a, f) => a + f.runs[k].samples, 0),
      totalMs: times.reduce((a, b) => a + b, 0),
      meanMs: times.reduce((a, b) => a + b, 0) / times.length,
      medianMs: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
      wins: frames.filter((f) => f.faces.length > 0 && f.runs[k].ms.total === Math.min(...f.runs.map((r) => r.ms.total))).length,
    };
  });
}
