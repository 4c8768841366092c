/**
 * Checks a topology MIME payload before the view touches it. The payload is whatever a notebook
 * displayed: a report from another dynbatch version, or hand-written JSON, must end in a readable
 * message, not in an exception thrown on every animation frame.
 */
import { VERDICTS } from "./model";

const MODES: readonly string[] = ["strict", "shape-aware"];
const LAYER_STRINGS = ["name", "type", "legacyType", "reason"] as const;

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** What is wrong with layer `i` of `where`, or null. */
function layerProblem(l: unknown, i: number, where: string): string | null {
  const at = `${where}layers[${i}]`;
  if (!isObject(l)) return `${at} is not an object`;
  if (typeof l.id !== "number" || !Number.isFinite(l.id)) return `${at}.id is not a number`;
  for (const key of LAYER_STRINGS) if (typeof l[key] !== "string") return `${at}.${key} is not a string`;
  if (typeof l.verdict !== "string" || !(VERDICTS as readonly string[]).includes(l.verdict)) {
    return `${at}.verdict is ${JSON.stringify(l.verdict) ?? "missing"}, not one of ${VERDICTS.join(", ")}`;
  }
  if (!Array.isArray(l.inputs) || !l.inputs.every((id) => typeof id === "number"))
    return `${at}.inputs is not an array of layer ids`;
  if (!Array.isArray(l.outputShape)) return `${at}.outputShape is not an array`;
  return null;
}

/** What is wrong with one report (no `alternate` looked at), `where` prefixing the paths named. */
function reportProblem(r: unknown, where: string): string | null {
  if (!isObject(r)) return `${where ? where.slice(0, -1) : "the payload"} is not an object`;
  if (typeof r.model !== "string") return `${where}model is not a string`;
  if (typeof r.mode !== "string" || !MODES.includes(r.mode))
    return `${where}mode is ${JSON.stringify(r.mode) ?? "missing"}, not strict or shape-aware`;
  if (!Array.isArray(r.layers)) return `${where}layers is not an array`;
  if (!isObject(r.summary)) return `${where}summary is not an object`;
  const ids = new Set<number>();
  for (const [i, l] of r.layers.entries()) {
    const problem = layerProblem(l, i, where);
    if (problem) return problem;
    const id = (l as { id: number }).id;
    if (ids.has(id)) return `${where}layers[${i}].id ${id} is used by an earlier layer too`;
    ids.add(id);
  }
  for (const [i, l] of (r.layers as { inputs: number[] }[]).entries()) {
    const unknown = l.inputs.find((id) => !ids.has(id));
    if (unknown !== undefined) return `${where}layers[${i}].inputs names layer id ${unknown}, which is not in the report`;
  }
  return null;
}

/** Why `x` is not a topology report the view can draw (a short sentence naming the field), or null if it is one. */
export function topologyProblem(x: unknown): string | null {
  const problem = reportProblem(x, "");
  if (problem) return problem;
  const alternate = (x as Json).alternate;
  return alternate === undefined ? null : reportProblem(alternate, "alternate.");
}
