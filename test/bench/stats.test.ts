/** Percentiles and the median-stability rule, against values worked out by hand (numpy's linear method). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { medianStable, percentile, summarize } from "../../kernel/bench";

test("percentile interpolates linearly between ranks", () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9.1);
  assert.equal(percentile([7], 90), 7);
  assert.equal(percentile([1, 3], 0), 1);
  assert.equal(percentile([1, 3], 100), 3);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test("summarize sorts and reports p50, p90, min and max", () => {
  assert.deepEqual(summarize([5, 1, 4, 2, 3]), { p50: 3, p90: 4.6, min: 1, max: 5 });
});

test("medianStable: needs enough samples and a median that no longer moves", () => {
  const flat = Array.from({ length: 20 }, (_, i) => 10 + (i % 3) * 0.01);
  assert.equal(medianStable(flat), true);
  assert.equal(medianStable(flat.slice(0, 5)), false);
  // Half the samples are slower: the median of all (11) is 10% above that of the first 80% (10).
  const drifting = [...Array.from({ length: 10 }, () => 10), ...Array.from({ length: 10 }, () => 12)];
  assert.equal(medianStable(drifting), false);
  assert.equal(medianStable(drifting, 0.1), true);
});
