/**
 * LiveDisplay's throttle, on a fake clock: progress lines at most one per PROGRESS_INTERVAL_MS however
 * often they come, the latest held-back line shown when the interval ends, and the final state
 * (a report, fraction 1, flush()) shown at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { newDisplay, LATENCY_MIME, PROGRESS_INTERVAL_MS } from "../../kernel";
import type { LatencyReport, LiveDisplayClock } from "../../kernel";
import { DisplayDataContent, DisplayWriter, tslabInternalWriter } from "../../kernel/display/writer";

const report: LatencyReport = {
  model: "m",
  device: "CPU",
  limit: 1,
  points: [{ batch: 1, mode: "dynamic", latencyMs: { p50: 1, p90: 1, min: 1, max: 1 }, throughput: 1000 }],
};

/** A clock the test moves: scheduled functions run when `advance` passes their time. */
function fakeClock() {
  let t = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: LiveDisplayClock = {
    now: () => t,
    schedule(fn, ms) {
      const timer = { at: t + ms, fn };
      timers.push(timer);
      return () => (timers = timers.filter((x) => x !== timer));
    },
  };
  function advance(ms: number): void {
    const end = t + ms;
    for (;;) {
      const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((x) => x !== due);
      t = due.at;
      due.fn();
    }
    t = end;
  }
  return { clock, advance, pending: () => timers.length };
}

function recorder() {
  const sent: { content: DisplayDataContent; update: boolean }[] = [];
  const writer = tslabInternalWriter({ lastWriteDisplayData: (content, update) => sent.push({ content, update }) });
  const texts = () => sent.map((s) => s.content.data["text/plain"]);
  return { sent, writer, texts };
}

test("live display: 100,000 progress calls over 1 s become at most one line per 100 ms, ending with the final state", () => {
  const { clock, advance } = fakeClock();
  const { sent, writer, texts } = recorder();
  const live = newDisplay(writer, clock);
  const calls = 100_000;
  for (let i = 0; i < calls; i++) {
    live.progress(`sample ${i}`, i / calls);
    advance(1000 / calls);
  }
  live.progress("done", 1);
  console.log(`${calls} progress calls over 1 s (fake clock) → ${sent.length} updates`);
  // One per interval over 1 s (the first at t = 0), plus the final line.
  assert.ok(sent.length <= 1000 / PROGRESS_INTERVAL_MS + 2, `${sent.length} updates`);
  assert.ok(sent.length >= 1000 / PROGRESS_INTERVAL_MS, `${sent.length} updates`);
  assert.equal(texts().at(-1), "[####################] 100% done");
  assert.deepEqual(
    sent.map((s) => s.update),
    [false, ...Array(sent.length - 1).fill(true)],
  );
  assert.ok(sent.every((s) => s.content.transient.display_id === live.id));
});

test("live display: a line held back is shown when its interval ends; flush() shows it at once, and only once", () => {
  const { clock, advance, pending } = fakeClock();
  const { writer, texts } = recorder();
  const live = newDisplay(writer, clock);
  live.progress("a", 0);
  advance(10);
  live.progress("b", 0.1);
  live.progress("c", 0.2);
  assert.deepEqual(texts(), ["[--------------------] 0% a"]);
  advance(PROGRESS_INTERVAL_MS - 10);
  assert.deepEqual(texts().slice(1), ["[####----------------] 20% c"]);
  advance(50);
  live.progress("d", 0.3);
  live.flush();
  assert.equal(texts().at(-1), "[######--------------] 30% d");
  assert.equal(pending(), 0, "the timer of a flushed line is cancelled");
  advance(1000);
  live.flush();
  assert.equal(texts().length, 3);
});

test("live display: a report shows at once and drops the progress line held back", () => {
  const { clock, advance } = fakeClock();
  const { sent, writer } = recorder();
  const live = newDisplay(writer, clock);
  live.progress("batch 1", 0);
  live.progress("batch 2", 0.5);
  live.update(report);
  advance(1000);
  assert.deepEqual(
    sent.map((s) => [s.update, Object.keys(s.content.data).length]),
    [
      [false, 2],
      [true, 3],
    ],
  );
  assert.ok(LATENCY_MIME in sent[1].content.data);
});

test("live display: a held-back line whose cell has ended is dropped, not thrown from the timer", () => {
  const { clock, advance } = fakeClock();
  let open = true;
  const shown: string[] = [];
  const writer: DisplayWriter = (bundle) => {
    if (!open) throw new Error("tslab has no cell executing");
    shown.push(bundle["text/plain"]);
  };
  const live = newDisplay(writer, clock);
  live.progress("a", 0);
  live.progress("b", 0.5);
  open = false;
  assert.doesNotThrow(() => advance(PROGRESS_INTERVAL_MS));
  assert.deepEqual(shown, ["[--------------------] 0% a"]);
});

test("live display: without a clock, the real one: a burst shows its first line at once and its last after the interval", async () => {
  const { writer, texts } = recorder();
  const live = newDisplay(writer);
  for (let i = 0; i <= 100; i++) live.progress(`step ${i}`, i / 200);
  assert.equal(texts()[0], "[--------------------] 0% step 0");
  await new Promise((resolve) => setTimeout(resolve, 3 * PROGRESS_INTERVAL_MS));
  // However slow this machine is, the burst is thinned and its last line is what stays shown.
  assert.ok(texts().length < 101);
  assert.equal(texts().at(-1), "[##########----------] 50% step 100");
});
