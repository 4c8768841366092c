/** Seeded pseudo-random streams (the bench's weights, inputs and contender order; fuzz cases): the same on every machine. */

/** One xorshift32 step: the next uint32 of the stream (a state of 0 stays 0, so seeds start at 1). */
export function xorshift32(s: number): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
}

/** Uniform values in [0, 1) from `seed`: the same stream for the same seed, on every machine. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = xorshift32(s)) / 2 ** 32;
}
