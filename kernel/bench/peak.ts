/** The machine's FP32 peak, from the FMA microbenchmark in the native addon (native/src/peak.cc). */
import { loadAddon } from "../plugins/native";

/** Length of one microbenchmark run (ms); measurePeakGflops keeps the best of several. */
export const PEAK_RUN_MS = 200;

/**
 * GFLOP/s of `threads` threads doing nothing but independent FMAs, best of `repeats` runs of
 * `ms` milliseconds each (the best run is the one least disturbed by other work on the machine).
 * Blocks the calling thread for about repeats × 1.25 × ms.
 */
export function measurePeakGflops(threads: number, ms = PEAK_RUN_MS, repeats = 3): number {
  const addon = loadAddon();
  let best = 0;
  for (let i = 0; i < repeats; i++) best = Math.max(best, addon.fmaPeakGflops(threads, ms));
  return best;
}
