/**
 * Several cameras feeding the same secondary networks: the bundled video played by K streams at
 * different offsets, every face of every frame sent on its own to landmarks and head pose, as
 * independent callers of a serving system would. Faces are detected and cropped once per video
 * frame (cropFaces, which the cascade's face counts record); replayStreams then paces the
 * streams in real time and measures what a caller sees. How a face's sample is run is the
 * caller's: a batcher's infer (coalescing), or a plain request (no batching); the cascade does
 * not import the batcher, which sits above it.
 */
import { InputError } from "../errors";
import { Frame } from "../video/frame";
import { FaceCascade, LANDMARKS_SIZE, HEAD_POSE_SIZE } from "./pipeline";
import { toPlanarBgr } from "./preprocess";

/** One video frame's faces as network inputs: one planar-BGR crop per face and network. */
export interface FaceCrops {
  landmarks: Float32Array[];
  headPose: Float32Array[];
}

/** Detects the faces of `frame` (recorded in cascade.faceCounts) and crops each for landmarks and head pose. */
export async function cropFaces(cascade: FaceCascade, frame: Frame): Promise<FaceCrops> {
  const faces = await cascade.detect(frame);
  return {
    landmarks: faces.map((f) => toPlanarBgr(frame, f, LANDMARKS_SIZE, LANDMARKS_SIZE)),
    headPose: faces.map((f) => toPlanarBgr(frame, f, HEAD_POSE_SIZE, HEAD_POSE_SIZE)),
  };
}

/** How one face's sample is run on each network; resolves when its outputs are there. */
export interface StreamRunners {
  landmarks(sample: Float32Array): Promise<unknown>;
  headPose(sample: Float32Array): Promise<unknown>;
}

export interface ReplayOptions {
  /** Cameras, K ≥ 1. Stream k starts at frame k·frames/K of the recording (wrapping). */
  streams: number;
  /** Frames per second of each camera. */
  fps: number;
  /** Frames each stream sends. */
  steps: number;
  run: StreamRunners;
}

export interface StreamReport {
  streams: number;
  fps: number;
  /** Frames sent, all streams together. */
  frames: number;
  faces: number;
  /** Network samples answered (two per face: landmarks and head pose). */
  samples: number;
  /** From the first frame's arrival to the last answer. */
  elapsedMs: number;
  /** Samples per second over elapsedMs. */
  throughput: number;
  /** Per face, from its frame's arrival until both its networks answered. */
  faceLatencyMs: { p50: number; p99: number };
  /** Per frame with faces, from its arrival until its last face was answered. */
  frameLatencyMs: { p50: number; p99: number };
}

/** The q-th percentile of ascending `s`, linear between ranks (as the bench's, which this layer cannot import). */
function percentile(s: readonly number[], q: number): number {
  if (s.length === 0) return NaN;
  const rank = (q / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  return s[lo] + (s[Math.ceil(rank)] - s[lo]) * (rank - lo);
}

const sleepUntil = (t: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

/**
 * Plays `recording` (one entry per video frame) on `streams` cameras: stream k's frame f arrives
 * at (f + k/K) frame periods, as streamArrivals() times it, and sends every face at once. Waits
 * for every answer.
 */
export async function replayStreams(recording: readonly FaceCrops[], opts: ReplayOptions): Promise<StreamReport> {
  const { streams, fps, steps, run } = opts;
  if (recording.length === 0) throw new InputError("replayStreams: the recording has no frames");
  if (!Number.isInteger(streams) || streams < 1)
    throw new InputError(`replayStreams: streams must be an integer ≥ 1, got ${streams}`);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new InputError(`replayStreams: fps must be a positive number, got ${fps}`);
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`replayStreams: steps must be an integer ≥ 1, got ${steps}`);
  const period = 1000 / fps;
  const schedule = [];
  for (let k = 0; k < streams; k++) {
    const start = Math.floor((k * recording.length) / streams);
    for (let f = 0; f < steps; f++)
      schedule.push({ at: (f + k / streams) * period, crops: recording[(start + f) % recording.length] });
  }
  schedule.sort((a, b) => a.at - b.at);
  const faceLatency: number[] = [];
  const frameLatency: number[] = [];
  let last = 0;
  const origin = performance.now();
  const pending: Promise<void>[] = [];
  for (const { at, crops } of schedule) {
    await sleepUntil(origin + at);
    const arrival = origin + at;
    const faces = crops.landmarks.map(async (lm, i) => {
      await Promise.all([run.landmarks(lm), run.headPose(crops.headPose[i])]);
      last = performance.now();
      faceLatency.push(last - arrival);
    });
    if (faces.length) pending.push(Promise.all(faces).then(() => void frameLatency.push(performance.now() - arrival)));
  }
  await Promise.all(pending);
  const elapsedMs = Math.max(0, last - origin);
  const stats = (xs: number[]) => {
    const s = xs.sort((a, b) => a - b);
    return { p50: percentile(s, 50), p99: percentile(s, 99) };
  };
  return {
    streams,
    fps,
    frames: schedule.length,
    faces: faceLatency.length,
    samples: 2 * faceLatency.length,
    elapsedMs,
    throughput: elapsedMs > 0 ? (2 * faceLatency.length * 1000) / elapsedMs : 0,
    faceLatencyMs: stats(faceLatency),
    frameLatencyMs: stats(frameLatency),
  };
}
