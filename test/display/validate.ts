/**
 * Checks that a JSON payload has the shape documented in kernel/schema.ts (what a frontend may
 * rely on). Returns the list of violations; empty means valid.
 */

type Json = Record<string, unknown>;

const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

export function validateTopologyReport(x: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(x)) return ["not an object"];
  if (typeof x.model !== "string") errs.push("model is not a string");
  if (x.mode !== "strict" && x.mode !== "shape-aware") errs.push(`mode is ${String(x.mode)}`);
  if (typeof x.supported !== "boolean") errs.push("supported is not a boolean");
  if (!Array.isArray(x.layers)) return [...errs, "layers is not an array"];
  const ids = new Set<number>();
  x.layers.forEach((l: unknown, i) => {
    if (!isObj(l)) return errs.push(`layers[${i}] is not an object`);
    if (!Number.isInteger(l.id)) errs.push(`layers[${i}].id is not an integer`);
    for (const k of ["name", "type", "legacyType", "reason"])
      if (typeof l[k] !== "string") errs.push(`layers[${i}].${k} is not a string`);
    if (!["supported", "unsupported", "constant"].includes(l.verdict as string))
      errs.push(`layers[${i}].verdict is ${String(l.verdict)}`);
    if (!Array.isArray(l.inputs) || !l.inputs.every((id) => ids.has(id as number)))
      errs.push(`layers[${i}].inputs do not all name earlier layers (topological order)`);
    if (!Array.isArray(l.outputShape) || !l.outputShape.every((d) => isNum(d) || typeof d === "string"))
      errs.push(`layers[${i}].outputShape is not (number|string)[]`);
    ids.add(l.id as number);
  });
  if (!isObj(x.summary)) return [...errs, "summary is not an object"];
  const layers = x.layers as Json[];
  const count = (v: string) => layers.filter((l) => l.verdict === v).length;
  const s = x.summary;
  if (s.total !== layers.length) errs.push("summary.total != layers.length");
  for (const v of ["supported", "unsupported", "constant"]) if (s[v] !== count(v)) errs.push(`summary.${v} != count`);
  const blocking = layers.filter((l) => l.verdict === "unsupported").map((l) => l.name);
  if (JSON.stringify(s.blocking) !== JSON.stringify(blocking)) errs.push("summary.blocking != unsupported names in order");
  if (x.supported !== (blocking.length === 0)) errs.push("supported disagrees with the verdicts");
  if (x.fixes !== undefined) errs.push(...validateFixes(x.fixes, new Set(layers.map((l) => l.name))));
  return errs;
}

/** A report's `fixes`: applied BatchFixChanges, each naming a layer of the report. */
function validateFixes(fixes: unknown, names: Set<unknown>): string[] {
  if (!Array.isArray(fixes)) return ["fixes is not an array"];
  const errs: string[] = [];
  fixes.forEach((c: unknown, i) => {
    if (!isObj(c)) return errs.push(`fixes[${i}] is not an object`);
    for (const k of ["layer", "type", "kind", "blocked", "before", "after", "reason"])
      if (typeof c[k] !== "string") errs.push(`fixes[${i}].${k} is not a string`);
    if (c.applied !== true) errs.push(`fixes[${i}] is not applied`);
    if (!names.has(c.layer)) errs.push(`fixes[${i}].layer names no layer of the report`);
    const p = c.proof;
    if (!isObj(p) || !isNum(p.sameAtBatch) || typeof p.analysis !== "string" || !Array.isArray(p.numeric))
      errs.push(`fixes[${i}].proof is not {sameAtBatch, analysis, numeric}`);
  });
  return errs;
}

export function validateLatencyReport(x: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(x)) return ["not an object"];
  if (typeof x.model !== "string") errs.push("model is not a string");
  if (typeof x.device !== "string") errs.push("device is not a string");
  if (!Number.isInteger(x.limit) || (x.limit as number) < 1) errs.push("limit is not a positive integer");
  if (!Array.isArray(x.points)) return [...errs, "points is not an array"];
  x.points.forEach((p: unknown, i) => {
    if (!isObj(p)) return errs.push(`points[${i}] is not an object`);
    if (!Number.isInteger(p.batch) || (p.batch as number) < 1) errs.push(`points[${i}].batch is not a positive integer`);
    if (!["dynamic", "static", "loop", "ort"].includes(p.mode as string)) errs.push(`points[${i}].mode is ${String(p.mode)}`);
    const l = p.latencyMs;
    if (!isObj(l) || !["p50", "p90", "min", "max"].every((k) => isNum(l[k]) && (l[k] as number) >= 0))
      return errs.push(`points[${i}].latencyMs is not {p50,p90,min,max} >= 0`);
    const { p50, p90, min, max } = l as Record<string, number>;
    if (!(min <= p50 && p50 <= p90 && p90 <= max)) errs.push(`points[${i}]: not min <= p50 <= p90 <= max`);
    if (!isNum(p.throughput)) errs.push(`points[${i}].throughput is not a number`);
    else if (p50 > 0 && Math.abs((p.throughput as number) - ((p.batch as number) / p50) * 1000) > 1e-3 * (p.throughput as number))
      errs.push(`points[${i}].throughput != batch / p50 * 1000`);
  });
  return errs;
}

function statsErrors(s: unknown, where: string): string[] {
  if (!isObj(s) || !["median", "p25", "p75", "min", "max"].every((k) => isNum(s[k]) && (s[k] as number) >= 0))
    return [`${where} is not {median,p25,p75,min,max} >= 0`];
  const { median, p25, p75, min, max } = s as Record<string, number>;
  return min <= p25 && p25 <= median && median <= p75 && p75 <= max ? [] : [`${where}: not min <= p25 <= median <= p75 <= max`];
}

export function validateProfileReport(x: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(x)) return ["not an object"];
  for (const k of ["model", "device"]) if (typeof x[k] !== "string") errs.push(`${k} is not a string`);
  if (!Number.isInteger(x.runs) || (x.runs as number) < 1) errs.push("runs is not a positive integer");
  const b = x.batches;
  if (!Array.isArray(b) || !b.every((n, i) => Number.isInteger(n) && n >= 1 && (i === 0 || n > b[i - 1])))
    return [...errs, "batches is not ascending positive integers"];
  const ids = new Set<number>();
  if (x.graph !== undefined) {
    if (!Array.isArray(x.graph)) return [...errs, "graph is not an array"];
    x.graph.forEach((n: unknown, i) => {
      if (!isObj(n) || !Number.isInteger(n.id) || typeof n.name !== "string" || typeof n.type !== "string")
        return errs.push(`graph[${i}] is not {id, name, type, inputs}`);
      if (!Array.isArray(n.inputs) || !n.inputs.every((id) => ids.has(id as number)))
        errs.push(`graph[${i}].inputs do not all name earlier nodes`);
      ids.add(n.id as number);
    });
  }
  if (!Array.isArray(x.layers)) return [...errs, "layers is not an array"];
  const names = new Set(x.layers.map((l) => (isObj(l) ? l.name : undefined)));
  const sums = b.map(() => 0);
  x.layers.forEach((l: unknown, i) => {
    if (!isObj(l)) return errs.push(`layers[${i}] is not an object`);
    for (const k of ["name", "type", "execType"]) if (typeof l[k] !== "string") errs.push(`layers[${i}].${k} is not a string`);
    if (l.precision !== undefined && typeof l.precision !== "string") errs.push(`layers[${i}].precision is not a string`);
    if (l.node !== undefined && !ids.has(l.node as number)) errs.push(`layers[${i}].node is not a graph node`);
    if (l.fusedInto !== undefined) {
      if (!names.has(l.fusedInto)) errs.push(`layers[${i}].fusedInto names no layer`);
      if (l.timeUs !== undefined || l.fit !== undefined) errs.push(`layers[${i}] is fused but has times`);
      return;
    }
    if (!Array.isArray(l.timeUs) || l.timeUs.length !== b.length)
      return errs.push(`layers[${i}].timeUs is not one entry per batch`);
    l.timeUs.forEach((s, k) => {
      errs.push(...statsErrors(s, `layers[${i}].timeUs[${k}]`));
      if (isObj(s) && isNum(s.median)) sums[k] += s.median;
    });
    const f = l.fit;
    if (b.length >= 2 && (!isObj(f) || !isNum(f.fixedUs) || !isNum(f.perSampleUs) || !isNum(f.r2) || (f.r2 as number) > 1 + 1e-9))
      errs.push(`layers[${i}].fit is not {fixedUs, perSampleUs, r2 <= 1}`);
  });
  if (!Array.isArray(x.totals) || x.totals.length !== b.length) return [...errs, "totals is not one entry per batch"];
  x.totals.forEach((t: unknown, k) => {
    if (!isObj(t) || !["wallUs", "layersUs", "outsideUs"].every((key) => isNum(t[key])))
      return errs.push(`totals[${k}] is not {batch, wallUs, layersUs, outsideUs}`);
    const { wallUs, layersUs, outsideUs } = t as Record<string, number>;
    if (t.batch !== b[k]) errs.push(`totals[${k}].batch != batches[${k}]`);
    if (Math.abs(layersUs - sums[k]) > 1e-6 * Math.max(1, sums[k]))
      errs.push(`totals[${k}].layersUs != sum of the layers' medians`);
    if (Math.abs(layersUs + outsideUs - wallUs) > 1e-6 * Math.max(1, wallUs)) errs.push(`totals[${k}]: layers + outside != wall`);
  });
  return errs;
}

function latencyErrors(l: unknown, where: string): string[] {
  if (!isObj(l) || !["p50", "p90", "p99"].every((k) => isNum(l[k]) && (l[k] as number) >= 0))
    return [`${where} is not {p50,p90,p99} >= 0`];
  const { p50, p90, p99 } = l as Record<string, number>;
  return p50 <= p90 && p90 <= p99 ? [] : [`${where}: not p50 <= p90 <= p99`];
}

export function validateFrontierReport(x: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(x)) return ["not an object"];
  for (const k of ["model", "device"]) if (typeof x[k] !== "string") errs.push(`${k} is not a string`);
  if (!Number.isInteger(x.limit) || (x.limit as number) < 1) errs.push("limit is not a positive integer");
  if (typeof x.dynamic !== "boolean") errs.push("dynamic is not a boolean");
  if (!isNum(x.durationMs) || (x.durationMs as number) <= 0) errs.push("durationMs is not a positive number");
  if (!Number.isInteger(x.seed)) errs.push("seed is not an integer");
  for (const k of ["saturation", "batchLatencyMs"])
    if (x[k] !== undefined && !(isNum(x[k]) && (x[k] as number) > 0)) errs.push(`${k} is not a positive number`);
  for (const k of ["batchOverheadMs", "loneOverheadMs", "wakeMs", "plainOverheadMs", "plainWakeMs"])
    if (x[k] !== undefined && !(isNum(x[k]) && (x[k] as number) >= 0)) errs.push(`${k} is not a number >= 0`);
  if (!Array.isArray(x.series) || x.series.length === 0) return [...errs, "series is not a non-empty array"];
  x.series.forEach((s: unknown, i) => {
    const at = `series[${i}]`;
    if (!isObj(s)) return errs.push(`${at} is not an object`);
    if (typeof s.policy !== "string") errs.push(`${at}.policy is not a string`);
    if (s.kind !== "batcher" && s.kind !== "requests") errs.push(`${at}.kind is ${String(s.kind)}`);
    if (s.kind === "batcher" && !(isNum(s.maxDelayUs) && (s.maxDelayUs as number) >= 0))
      errs.push(`${at}.maxDelayUs is not >= 0`);
    if (s.dispatch !== undefined && s.dispatch !== "deadline" && s.dispatch !== "work-conserving")
      errs.push(`${at}.dispatch is ${String(s.dispatch)}`);
    if (!Number.isInteger(s.requests) || (s.requests as number) < 1) errs.push(`${at}.requests is not a positive integer`);
    if (s.sustained !== undefined) {
      const v = s.sustained;
      if (
        !isObj(v) ||
        !["rate", "throughput"].every((k) => isNum(v[k]) && (v[k] as number) >= 0) ||
        !(isNum(v.boundMs) && (v.boundMs as number) > 0) ||
        typeof v.everyRate !== "boolean"
      )
        errs.push(`${at}.sustained is not {rate, throughput >= 0, boundMs > 0, everyRate}`);
      else if (Array.isArray(s.points) && v.rate !== 0 && !s.points.some((p) => isObj(p) && p.rate === v.rate))
        errs.push(`${at}.sustained.rate is none of the series' rates`);
    }
    const points = s.points;
    if (!Array.isArray(points)) return errs.push(`${at}.points is not an array`);
    points.forEach((p: unknown, j) => {
      const pt = `${at}.points[${j}]`;
      if (!isObj(p)) return errs.push(`${pt} is not an object`);
      for (const k of ["rate", "throughput"]) if (!(isNum(p[k]) && (p[k] as number) >= 0)) errs.push(`${pt}.${k} is not >= 0`);
      if (j > 0 && isObj(points[j - 1]) && !((p.rate as number) > ((points[j - 1] as Json).rate as number)))
        errs.push(`${pt}.rate is not above the previous point's`);
      for (const k of ["offered", "completed", "paddedSamples"])
        if (!Number.isInteger(p[k]) || (p[k] as number) < 0) errs.push(`${pt}.${k} is not an integer >= 0`);
      const errors = p.errors;
      if (!isObj(errors) || !Object.values(errors).every((c) => Number.isInteger(c)))
        return errs.push(`${pt}.errors is not {code: count}`);
      const refused = Object.values(errors).reduce((a: number, c) => a + (c as number), 0);
      if ((p.completed as number) + refused !== p.offered) errs.push(`${pt}: completed + errors != offered`);
      if ((p.completed as number) > 0) errs.push(...latencyErrors(p.latencyMs, `${pt}.latencyMs`));
      const h = p.histogram;
      if (!isObj(h) || !Object.entries(h).every(([n, c]) => /^[1-9]\d*$/.test(n) && Number.isInteger(c) && (c as number) > 0))
        return errs.push(`${pt}.histogram is not {positive batch size: count > 0}`);
      if (Object.keys(h).some((n) => Number(n) > (x.limit as number))) errs.push(`${pt}.histogram has a batch above the limit`);
      if (p.simulated !== undefined) {
        const sim = p.simulated;
        if (!isObj(sim) || !isNum(sim.throughput)) errs.push(`${pt}.simulated is not {throughput, latencyMs}`);
        else errs.push(...latencyErrors(sim.latencyMs, `${pt}.simulated.latencyMs`));
      }
    });
  });
  return errs;
}
