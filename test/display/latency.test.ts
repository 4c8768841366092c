/**
 * The latency bundle's static charts: the batch axis is log₂ (equal steps for each doubling, read
 * from the drawn marks), ticked at the measured batches and labelled as integers; a static network
 * measured at its one batch is drawn as the flat cost it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toMimeBundle } from "../../kernel";
import type { LatencyMode, LatencyReport } from "../../kernel";
import { batchTicks, log2Position } from "../../kernel/display/latency";
import { flatStaticBatch, flatStaticPoints } from "../../kernel/display/flat";
import { readHtml } from "./html";

function report(batches: number[], modes: LatencyMode[] = ["dynamic"]): LatencyReport {
  return {
    model: "m",
    device: "CPU",
    limit: Math.max(...batches),
    points: modes.flatMap((mode) =>
      batches.map((batch) => ({
        batch,
        mode,
        latencyMs: { p50: 1 + batch, p90: 1.2 + batch, min: 0.9 + batch, max: 2 + batch },
        throughput: (1000 * batch) / (1 + batch),
      })),
    ),
  };
}

/** The x of each mark (circle) of each chart, in drawing order. */
function markXs(html: string): number[][] {
  return [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((svg) =>
    [...svg[0].matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1])),
  );
}

test("static latency charts: each doubling of n is the same step along x, in both charts", () => {
  const batches = [1, 2, 4, 8, 16, 32];
  const html = toMimeBundle(report(batches))["text/html"];
  const charts = markXs(html);
  assert.equal(charts.length, 2);
  for (const xs of charts) {
    assert.equal(xs.length, batches.length);
    const steps = xs.slice(1).map((x, i) => x - xs[i]);
    for (const s of steps) assert.ok(Math.abs(s - steps[0]) < 0.02, `steps ${steps.join(", ")}`);
    assert.ok(steps[0] > 30, "1, 2 and 4 are apart, not on one another");
  }
  // n = 3 lies at log₂3 ≈ 1.585 doublings from n = 1.
  const [xs] = markXs(toMimeBundle(report([1, 2, 3, 4]))["text/html"]);
  assert.ok(Math.abs((xs[2] - xs[0]) / (xs[1] - xs[0]) - Math.log2(3)) < 1e-3);
});

test("static latency charts: ticks at the measured batches, labelled as integers", () => {
  const reading = readHtml(toMimeBundle(report([1, 2, 4, 8, 16]))["text/html"]);
  assert.match(reading.text, /batch n \(log₂ scale\)/);
  assert.deepEqual(batchTicks([16, 1, 4, 2, 8, 4]), [1, 2, 4, 8, 16]);
  assert.deepEqual(batchTicks(Array.from({ length: 40 }, (_, i) => i + 1)), [1, 2, 4, 8, 16, 32], "many batches: powers of two");
  assert.deepEqual(batchTicks([]), [1]);
  assert.equal(log2Position(1, 16), 0.5 / 5);
  assert.equal(log2Position(16, 16), 4.5 / 5);
});

/** Notebook 01's report: dynamic at 1…16, and one static network compiled for 16 measured at 16. */
function notebook01(): LatencyReport {
  const r = report([1, 2, 4, 8, 12, 16]);
  r.points.push({ batch: 16, mode: "static", latencyMs: { p50: 20, p90: 22, min: 19, max: 30 }, throughput: 800 });
  return r;
}

/** The points of the polyline drawn in `color` in each chart. */
function polyline(html: string, color: string): { x: number; y: number }[][] {
  return [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((svg) => {
    const m = new RegExp(`<polyline fill="none" stroke="${color}"[^>]* points="([^"]*)"`).exec(svg[0]);
    assert.ok(m, `a ${color} line`);
    return m[1].split(" ").map((xy) => {
      const [x, y] = xy.split(",").map(Number);
      return { x, y };
    });
  });
}

const STATIC_COLOR = "#ff7f0e";

test("a static network measured at its one batch N is a flat line over n = 1…N: every request pays for N", () => {
  const r = notebook01();
  assert.equal(flatStaticBatch(r), 16);
  const b = toMimeBundle(r);
  const [latency, throughput] = polyline(b["text/html"], STATIC_COLOR);
  const dynamic = polyline(b["text/html"], "#1f77b4")[0];
  assert.deepEqual(
    latency.map((p) => p.x),
    dynamic.map((p) => p.x),
    "across every measured n",
  );
  assert.ok(
    latency.every((p) => p.y === latency[0].y),
    "one latency: the one measured at 16",
  );
  // Throughput of a request of n samples on it: n / p50, a line through the origin in n.
  // n = 1 lies one step of n above 0, as n = 2 lies one step above n = 1: the y of 0 samples/s.
  const base = throughput[0].y + (throughput[0].y - throughput[1].y);
  const n = [1, 2, 4, 8, 12, 16];
  throughput.forEach((p, i) => assert.ok(Math.abs((base - p.y) / (base - throughput[5].y) - n[i] / 16) < 0.01, `n = ${n[i]}`));
  const reading = readHtml(b["text/html"]);
  assert.ok(reading.text.includes("static (compiled for 16): every request pays for 16"));
  const marks = [...b["text/html"].matchAll(new RegExp(`<circle [^>]*fill="${STATIC_COLOR}"`, "g"))];
  assert.equal(marks.length, 2, "one mark per chart, where it was measured");
  assert.equal(flatStaticPoints(r).filter((p) => !p.derived).length, 1);
  assert.equal(b["text/plain"].split("\n").filter((l) => /^16 /.test(l)).length, 1, "the table shows the measurement only");
  assert.equal(
    b["text/plain"].split("\n").at(-1),
    "static (compiled for 16): every request pays for 16 (a request of any n ≤ 16 takes the latency measured at 16)",
  );
});

test("a static sweep (a network per n), or one point left after skipped batches, stays as measured", () => {
  const sweep = report([1, 2, 4], ["dynamic", "static"]);
  assert.equal(flatStaticBatch(sweep), undefined);
  const rest = notebook01();
  rest.skipped = [{ mode: "static", reason: "batch 8: out of memory" }];
  assert.equal(flatStaticBatch(rest), undefined);
  assert.deepEqual(flatStaticPoints(rest), []);
  const alone = report([16]);
  alone.points.push({ ...alone.points[0], mode: "static" });
  assert.equal(flatStaticBatch(alone), undefined, "nothing below N to extend to");
  assert.ok(!toMimeBundle(sweep)["text/html"].includes("every request pays"));
});
