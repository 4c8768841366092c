/**
 * The latency bundle's static charts: the batch axis is log₂ (equal steps for each doubling, read
 * from the drawn marks), ticked at the measured batches and labelled as integers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toMimeBundle } from "../../kernel";
import type { LatencyMode, LatencyReport } from "../../kernel";
import { batchTicks, log2Position } from "../../kernel/display/latency";
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
