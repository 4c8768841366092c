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

// No order is asserted: a turn of the event loop that starts late runs the overdue setTimeout ones before the setImmediate ones.
test("realClock timers, polling or not, fire once each and never before they fall due", async () => {
  const fired: { delay: number; poll: boolean; early: number }[] = [];
  const all: Promise<void>[] = [];
  for (const poll of [true, false])
    for (const delay of [2600, 300, 1200, 0, 2000]) {
      const due = realClock.now() + delay;
      all.push(
        new Promise<void>((resolve) =>
          realClock.setTimer(
            () => {
              fired.push({ delay, poll, early: due - realClock.now() });
              resolve();
            },
            delay,
            { poll },
          ),
        ),
      );
    }
  let cancelled = false;
  realClock.clearTimer(realClock.setTimer(() => (cancelled = true), 500, { poll: false }));
  realClock.clearTimer(realClock.setTimer(() => (cancelled = true), 1500));
  await Promise.all(all);
  await new Promise<void>((resolve) => realClock.setTimer(resolve, 3000, { poll: false }));
  assert.equal(fired.length, 10, "each fired once");
  assert.equal(cancelled, false, "cleared timers never fire");
  for (const f of fired) assert.ok(f.early <= 0, `${f.delay} µs (poll ${f.poll}) fired ${f.early} µs before it was due`);
});

test("nextTimerDue leaves out timers that do not poll: a sleeper need not wake for a timer allowed to be late", () => {
  const t = realClock.setTimer(() => undefined, 1e6, { poll: false });
  assert.equal(nextTimerDue(), Infinity);
  realClock.clearTimer(t);
});
