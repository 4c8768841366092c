/**
 * queueingBound on a synthetic curve (a batch of n costs 1 + n ms, limit 8): capacity and
 * utilization by hand, and the rate it finds checked against simulateBatching run independently
 * on the same arrivals: within the bound at that rate, past it one bisection step above.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, LatencyPoint, LatencyReport, poissonArrivals, queueingBound, simulateBatching } from "../../kernel";

function point(batch: number, ms: number): LatencyPoint {
  return { batch, mode: "dynamic", latencyMs: { p50: ms, p90: ms, min: ms, max: ms }, throughput: (batch / ms) * 1000 };
}

const COST: LatencyReport = { model: "synthetic", device: "CPU", limit: 8, points: [1, 2, 4, 8].map((n) => point(n, 1 + n)) };

const p99 = (rate: number, maxDelayUs: number, samples: number) =>
  simulateBatching({
    cost: COST,
    arrivals: poissonArrivals(rate, (1000 * samples) / rate, 1),
    policy: { maxDelayUs, maxBatch: 8 },
  }).latencyMs.p99;

test("queueingBound: capacity, utilization at 2× saturation, and the highest rate whose simulated p99 is within the bound", () => {
  const samples = 2000;
  const policies = [{ maxDelayUs: 1000, dispatch: "deadline" as const }];
  const b = queueingBound(COST, { limit: 8, saturation: 300, samples, policies });
  assert.equal(b.capacity, 8000 / 9, "8 samples per 9 ms");
  assert.equal(b.utilizationAt2x, 600 / (8000 / 9));
  assert.equal(b.boundMs, 1 + 2 * 9);
  assert.ok(b.rate > 0 && b.rate < b.capacity, `rate ${b.rate}`);
  assert.equal(b.utilization, b.rate / b.capacity);
  assert.ok(p99(b.rate, 1000, samples) <= b.boundMs, "within the bound at the rate found");
  assert.ok(p99(b.rate + b.capacity / 4096, 1000, samples) > b.boundMs, "past it one bisection step above");
  assert.equal(b.reachable, b.rate >= 600);
  // A saturation far below the rate found: 2× it is reachable.
  assert.equal(queueingBound(COST, { limit: 8, saturation: b.rate / 4, samples, policies }).reachable, true);
  // The batcher's own time per batch lowers the capacity.
  assert.equal(queueingBound(COST, { limit: 8, saturation: 300, samples, policies, overheadMs: 1 }).capacity, 800);
  assert.throws(() => queueingBound(COST, { limit: 8, saturation: 0 }), ConfigError);
});
