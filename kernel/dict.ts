/**
 * Null-prototype records. Names and op types come from model files, and a plain object keyed by
 * them mistakes "__proto__", "constructor" or "toString" for its own prototype's members.
 */

/** A null-prototype record holding `entries`. */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const d = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) d[k] = v;
  return d;
}

/** A null-prototype copy of a literal lookup table. */
export function table<T>(literal: Record<string, T>): Record<string, T> {
  return dict(Object.entries(literal));
}
