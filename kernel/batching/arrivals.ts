/** Arrival times of a load test: when each independent caller sends its sample. */
import { ConfigError } from "../errors";
import { uniform } from "../random";

/**
 * Poisson arrivals at `rate` per second over [0, durationMs): exponential gaps of mean 1/rate
 * (inverse transform of seeded uniforms), in milliseconds, ascending. The same seed gives the
 * same times on every machine, so two policies can be offered exactly the same load.
 */
export function poissonArrivals(rate: number, durationMs: number, seed: number): number[] {
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0)
    throw new ConfigError(`poissonArrivals: rate must be a positive number of samples per second, got ${String(rate)}`);
  if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0)
    throw new ConfigError(`poissonArrivals: durationMs must be a non-negative number, got ${String(durationMs)}`);
  const next = uniform(seed);
  const meanGapMs = 1000 / rate;
  const times: number[] = [];
  // 1 - u lies in (0, 1]: the logarithm stays finite.
  for (let t = -Math.log(1 - next()) * meanGapMs; t < durationMs; t += -Math.log(1 - next()) * meanGapMs) times.push(t);
  return times;
}

export interface StreamOptions {
  /** Cameras feeding the same network. */
  streams: number;
  /** Frames per second of each. */
  fps: number;
  durationMs: number;
}

/**
 * Arrivals from video streams: each frame brings as many samples as a recording counted in that
 * frame (per-frame face counts of the cascade: `frames.map((f) => f.faces.length)`), all at the
 * frame's time. Stream k plays the recording from frame k·len/streams on (wrapping), so the
 * streams do not show the same faces, and its frames fall k/streams of a frame period after
 * stream 0's: independent cameras are not in phase. Times in ms, ascending.
 */
export function streamArrivals(perFrame: readonly number[], opts: StreamOptions): number[] {
  if (!Array.isArray(perFrame) || perFrame.length === 0 || perFrame.some((n) => !Number.isInteger(n) || n < 0))
    throw new ConfigError("streamArrivals: perFrame must be a non-empty list of per-frame sample counts (integers ≥ 0)");
  const { streams, fps, durationMs } = opts ?? {};
  if (!Number.isInteger(streams) || streams < 1)
    throw new ConfigError(`streamArrivals: streams must be a positive integer, got ${streams}`);
  if (typeof fps !== "number" || !Number.isFinite(fps) || fps <= 0)
    throw new ConfigError(`streamArrivals: fps must be a positive number, got ${fps}`);
  if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0)
    throw new ConfigError(`streamArrivals: durationMs must be a non-negative number, got ${durationMs}`);
  const periodMs = 1000 / fps;
  const times: number[] = [];
  for (let k = 0; k < streams; k++) {
    const start = Math.floor((k * perFrame.length) / streams);
    for (let f = 0; ; f++) {
      const t = (f + k / streams) * periodMs;
      if (t >= durationMs) break;
      for (let i = 0; i < perFrame[(start + f) % perFrame.length]; i++) times.push(t);
    }
  }
  return times.sort((a, b) => a - b);
}
