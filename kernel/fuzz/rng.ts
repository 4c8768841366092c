/** A small deterministic generator: every fuzz case is reproducible from (seed, case index). */
import { uniform } from "../random";
export type Rng = () => number;

export function rngFor(seed: number, index: number): Rng {
  // Mixes seed and index so neighbouring cases do not start from neighbouring states.
  return uniform((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

export function pick<T>(r: Rng, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

export function intBelow(r: Rng, n: number): number {
  return Math.floor(r() * n);
}
