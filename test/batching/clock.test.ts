/**
 * The real clock's bookkeeping: nextTimerDue() follows the pending timers as they are set,
 * cleared and fire, and sleepUntil() resolves no earlier than asked. No upper bound on any
 * delay is asserted (a shared machine may run late).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { nextTimerDue, realClock, sleepUntil } from "../../kernel/batching/clock";

test("nextTimerDue: the earliest pending realClock timer, until it is cleared or fires", async () => {
  assert.equal(nextTimerDue(), Infinity);
  const before = realClock.now();
  const late = realClock.setTimer(() => undefined, 5e6);
  const soon = realClock.setTimer(() => undefined, 1e6);
  const after = realClock.now();
  assert.ok(nextTimerDue() >= before + 1e6 && nextTimerDue() <= after + 1e6, "the 1 s timer is the next");
  realClock.clearTimer(soon);
  assert.ok(nextTimerDue() >= before + 5e6 && nextTimerDue() <= after + 5e6, "then the 5 s one");
  realClock.clearTimer(late);
  assert.equal(nextTimerDue(), Infinity);
  // Awaited on its own callback: a later timer may run first after the process stalls.
  const fired = new Promise<void>((resolve) => realClock.setTimer(resolve, 200));
  assert.ok(nextTimerDue() < Infinity);
  await fired;
  assert.equal(nextTimerDue(), Infinity, "fired timers leave the set");
});

test("sleepUntil resolves at or after the time asked, whole milliseconds and fractions alike", async () => {
  for (const ms of [0.3, 1.7]) {
    const until = performance.now() + ms;
    await sleepUntil(until);
    assert.ok(performance.now() >= until);
  }
  await sleepUntil(performance.now() - 5);
});
