/**
 * Timings of real runs → ProfileReport: per layer and batch the median and spread, the line
 * `fixed + perSample · n` through the medians, and per batch where the request's time went.
 * Pure arithmetic on samples (profile.ts takes them), so that it can be checked on made-up timings.
 */
import { InputError } from "../errors";
import { ProfileFit, ProfileLayer, ProfileNode, ProfileReport, ProfileStats, ProfileTotal } from "../schema";
import { percentile } from "./stats";

/** A layer as `getPerformanceCounts()` names it. */
export interface ProfiledLayer {
  name: string;
  type: string;
  execType: string;
  /** "FP32", "U8", …; absent for a fused layer or where the device does not say. */
  precision?: string;
  fusedInto?: string;
}

/** The timed runs of one batch: `layerUs[run][layer]` in the order of `ProfileSamples.layers`. */
export interface BatchSamples {
  batch: number;
  wallUs: number[];
  layerUs: number[][];
}

export interface ProfileSamples {
  model: string;
  device: string;
  layers: ProfiledLayer[];
  batches: BatchSamples[];
  graph?: ProfileNode[];
  date?: string;
}

/** Median, quartiles and range of `samples`. */
export function profileStats(samples: readonly number[]): ProfileStats {
  const s = [...samples].sort((a, b) => a - b);
  return { median: percentile(s, 50), p25: percentile(s, 25), p75: percentile(s, 75), min: s[0], max: s[s.length - 1] };
}

/**
 * Ordinary least squares of `ys` on `ns`: `y ≈ fixedUs + perSampleUs · n`. Undefined with fewer
 * than two distinct batches, where no line is determined.
 */
export function fitLine(ns: readonly number[], ys: readonly number[]): ProfileFit | undefined {
  if (ns.length !== ys.length) throw new InputError(`fitLine: ${ns.length} batches but ${ys.length} times`);
  if (new Set(ns).size < 2) return undefined;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const mn = mean(ns);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < ns.length; i++) {
    sxy += (ns[i] - mn) * (ys[i] - my);
    sxx += (ns[i] - mn) ** 2;
  }
  const perSampleUs = sxy / sxx;
  const fixedUs = my - perSampleUs * mn;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < ns.length; i++) {
    ssRes += (ys[i] - fixedUs - perSampleUs * ns[i]) ** 2;
    ssTot += (ys[i] - my) ** 2;
  }
  // Flat medians leave nothing to explain: the line through them is exact, not undefined.
  const r2 = ssTot > 0 ? 1 - ssRes / ssTot : 1;
  return { fixedUs, perSampleUs, r2 };
}

function checkSamples(s: ProfileSamples): void {
  if (s.batches.length === 0) throw new InputError("profile: no batch was measured");
  const seen = s.batches.map((b) => b.batch);
  if (new Set(seen).size !== seen.length) throw new InputError(`profile: a batch is measured twice in [${seen}]`);
  for (const b of s.batches) {
    if (b.wallUs.length === 0) throw new InputError(`profile: batch ${b.batch} has no timed run`);
    if (b.layerUs.length !== b.wallUs.length)
      throw new InputError(
        `profile: batch ${b.batch} has ${b.wallUs.length} request times but ${b.layerUs.length} layer timings`,
      );
    const bad = b.layerUs.findIndex((run) => run.length !== s.layers.length);
    if (bad >= 0)
      throw new InputError(
        `profile: batch ${b.batch}, run ${bad} times ${b.layerUs[bad].length} layers, expected ${s.layers.length}`,
      );
  }
}

/** The report: batches ascending, fused layers without times, totals that add up to the request's median. */
export function buildProfile(samples: ProfileSamples): ProfileReport {
  checkSamples(samples);
  const runs = [...samples.batches].sort((a, b) => a.batch - b.batch);
  const batches = runs.map((r) => r.batch);
  const ids = new Map((samples.graph ?? []).map((n) => [n.name, n.id]));
  const layers: ProfileLayer[] = samples.layers.map((l, i) => {
    const base: ProfileLayer = { name: l.name, type: l.type, execType: l.execType };
    if (l.fusedInto !== undefined) base.fusedInto = l.fusedInto;
    else if (l.precision !== undefined) base.precision = l.precision;
    const node = ids.get(l.name);
    if (node !== undefined) base.node = node;
    if (l.fusedInto !== undefined) return base;
    const timeUs = runs.map((r) => profileStats(r.layerUs.map((run) => run[i])));
    const fit = fitLine(
      batches,
      timeUs.map((t) => t.median),
    );
    return { ...base, timeUs, ...(fit ? { fit } : {}) };
  });
  const totals: ProfileTotal[] = runs.map((r, k) => {
    const wallUs = profileStats(r.wallUs).median;
    const layersUs = layers.reduce((sum, l) => sum + (l.timeUs ? l.timeUs[k].median : 0), 0);
    return { batch: r.batch, wallUs, layersUs, outsideUs: wallUs - layersUs };
  });
  const minRuns = Math.min(...runs.map((r) => r.wallUs.length));
  return {
    model: samples.model,
    device: samples.device,
    batches,
    runs: minRuns,
    layers,
    totals,
    ...(samples.graph ? { graph: samples.graph } : {}),
    ...(samples.date ? { date: samples.date } : {}),
  };
}
