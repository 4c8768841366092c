/** Arrival times of a load test: when each independent caller sends its sample. */
import { ConfigError } from "../errors";
import { uniform } from "../bench/random";

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
