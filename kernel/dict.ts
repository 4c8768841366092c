/**
 * Null-prototype records. Names and op types come from model files, and a plain object keyed by
 * them mistakes "__proto__", "constructor" or "toString" for its own prototype's members.
 */
import { inspect, InspectOptions } from "util";

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

/**
 * A null-prototype record for values handed to users (ports, performance counts), which prints
 * like a literal: console.log and notebooks would otherwise show "[Object: null prototype]".
 */
export function record<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const r = dict(entries);
  Object.defineProperty(r, inspect.custom, {
    value: (depth: number, options: InspectOptions) => inspect({ ...r }, { ...options, depth }),
  });
  return r;
}
