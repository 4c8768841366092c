/**
 * Notebook 03 prints its readings as sentences computed from its own sweeps and profiles. These
 * checks parse each sentence and recompute it from the payloads displayed in the same run, so
 * the text can never again say what the numbers beside it do not.
 */
import assert from "node:assert/strict";
import type { LatencyPoint, LatencyReport, ProfileReport } from "../../kernel";

const series = (r: LatencyReport, mode: LatencyPoint["mode"]) =>
  r.points.filter((p) => p.mode === mode).sort((a, b) => a.batch - b.batch);
const point = (r: LatencyReport, mode: LatencyPoint["mode"], n: number) => r.points.find((p) => p.mode === mode && p.batch === n)!;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `printed` is `value` written with `digits` decimals. */
function near(printed: string, value: number, digits: number, what: string): void {
  assert.ok(Math.abs(Number(printed) - value) <= 0.5 * 10 ** -digits + 1e-9, `${what}: printed ${printed}, measured ${value}`);
}

function report(reports: LatencyReport[], model: string, device: string): LatencyReport {
  const r = reports.find((x) => x.model === model && x.device === device);
  assert.ok(r, `a sweep of ${model} on ${device}`);
  return r;
}

/** "… throughput A → B samples/s from n = 1 to N (×G); saturates at n = S …" or "still rising at n = N (+P% over n = M)". */
function checkGrowth(line: string, r: LatencyReport, mode: LatencyPoint["mode"]): void {
  const m = /throughput (\d+) → (\d+) samples\/s from n = (\d+) to (\d+) \(×([\d.]+)\); (?:saturates at n = (\d+)|still rising at n = (\d+) \(\+(\d+)% over n = (\d+)\))/.exec(line);
  assert.ok(m, line);
  const s = series(r, mode);
  const [first, last] = [s[0], s[s.length - 1]];
  near(m[1], first.throughput, 0, "first throughput");
  near(m[2], last.throughput, 0, "last throughput");
  assert.deepEqual([Number(m[3]), Number(m[4])], [first.batch, last.batch]);
  near(m[5], last.throughput / first.throughput, 2, "gain");
  const sat = s.find((p, i) => s.slice(i + 1).every((q) => q.throughput <= 1.05 * p.throughput))!;
  if (m[6]) {
    assert.notEqual(sat, last, `${line}: the largest n is the fastest by more than 5%, so it is not saturated`);
    assert.equal(Number(m[6]), sat.batch);
  } else {
    assert.equal(sat, last, `${line}: a larger n is within 5%, so it saturated`);
    near(m[8], 100 * (last.throughput / s[s.length - 2].throughput - 1), 0, "rise");
  }
}

/** Every reading of notebook 03's sweeps against the latency reports it displayed. */
export function checkSweepReadings(out: string, reports: LatencyReport[]): number {
  let checked = 0;
  for (const line of out.split("\n")) {
    const head = /^(\S+) \((\w+)\): (.*)$/.exec(line);
    if (!head) continue;
    const r = report(reports, head[1], head[2]);
    const body = head[3];
    if (body.startsWith("dynamic throughput") || body.startsWith("static throughput")) {
      checkGrowth(body, r, body.startsWith("dynamic") ? "dynamic" : "static");
    } else if (body.startsWith("dyn/static")) {
      const m = /^dyn\/static median ([\d.]+), worst ([\d.]+) at n = (\d+) — (.*)$/.exec(body);
      assert.ok(m, line);
      const ratios = series(r, "dynamic").map((p) => ({ n: p.batch, ratio: p.latencyMs.p50 / point(r, "static", p.batch).latencyMs.p50 }));
      const mid = median(ratios.map((x) => x.ratio));
      const worst = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
      near(m[1], mid, 2, "dyn/static median");
      near(m[2], worst.ratio, 2, "dyn/static worst");
      assert.equal(Number(m[3]), worst.n);
      const verdict = mid > 1.05 ? /^loading once is not free here/ : mid < 0.95 ? /^setBatch\(n\) is \d+% faster/ : /costs about nothing/;
      assert.match(m[4], verdict, `${line} (median ${mid})`);
    } else if (body.startsWith("at n = 1")) {
      const m = /^at n = 1, dynamic (\d+) vs batch-1 network (\d+) samples\/s — (.*)$/.exec(body);
      assert.ok(m, line);
      const [d, s] = [point(r, "dynamic", 1), point(r, "static", 1)];
      near(m[1], d.throughput, 0, "dynamic at 1");
      near(m[2], s.throughput, 0, "batch-1 network");
      const ratio = d.latencyMs.p50 / s.latencyMs.p50;
      assert.match(m[3], ratio > 1.05 ? /longer through the dynamic network/ : ratio < 0.95 ? /faster through the dynamic/ : /the same within/, line);
    } else continue;
    checked++;
  }
  return checked;
}

/** The per-request line of notebook 03's profile readings, recomputed from the profile payloads. */
export function checkProfileReadings(out: string, profiles: ProfileReport[]): number {
  let checked = 0;
  // The outside share can be negative: the layers' medians may add up to more than the request's median.
  for (const m of out.matchAll(/^(\S+) at n = (\d+): (\d+) µs per request; top layers (.*); outside layers (-?[\d.]+)%$/gm)) {
    const p = profiles.find((x) => x.model === m[1]);
    assert.ok(p, `a profile of ${m[1]}`);
    const i = p.batches.indexOf(Number(m[2]));
    assert.ok(i >= 0, `${m[1]} was profiled at n = ${m[2]}`);
    const t = p.totals[i];
    near(m[3], t.wallUs, 0, "request µs");
    near(m[5], (100 * t.outsideUs) / t.wallUs, 1, "outside share");
    const slowest = p.layers
      .filter((l) => l.timeUs)
      .sort((a, b) => b.timeUs![i].median - a.timeUs![i].median)
      .slice(0, 3)
      .map((l) => `${l.name} (${l.type})`);
    assert.deepEqual(
      m[4].split(", ").map((x) => x.replace(/ [\d.]+%$/, "")),
      slowest,
    );
    checked++;
  }
  const fit = /^landmarks: request ≈ (-?\d+) µs \+ (-?\d+) µs · n(?:, so (\d+)% of a batch-1 request is fixed cost — (overhead-bound|more per-sample))?/m.exec(out);
  assert.ok(fit, "the landmarks fit line");
  const lm = profiles.find((x) => x.model === "landmarks-regression-retail-0009")!;
  const xs = lm.totals.map((t) => t.batch);
  const ys = lm.totals.map((t) => t.wallUs);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope = xs.reduce((a, x, k) => a + (x - mx) * (ys[k] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const fixed = my - slope * mx;
  near(fit[1], fixed, 0, "fixed µs");
  near(fit[2], slope, 0, "µs per sample");
  if (fixed > 0) {
    near(fit[3], (100 * fixed) / (fixed + slope), 0, "fixed share");
    assert.equal(fit[4], fixed / (fixed + slope) > 0.5 ? "overhead-bound" : "more per-sample");
  } else assert.equal(fit[3], undefined);
  return checked + 1;
}
