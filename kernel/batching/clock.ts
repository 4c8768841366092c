/**
 * The batcher's time source and timer, in microseconds. The batcher reads time only through a
 * Clock, so tests drive batch formation by delay and timeouts with a manual clock instead of
 * asserting on wall-clock timings.
 */
export interface Clock {
  /** Microseconds since an arbitrary origin; never decreases. */
  now(): number;
  /** Calls `callback` once, `delayUs` from now (or later); returns a handle for clearTimer. */
  setTimer(callback: () => void, delayUs: number, options?: TimerOptions): unknown;
  clearTimer(handle: unknown): void;
}

export interface TimerOptions {
  /**
   * Whether the timer may poll the event loop to fire on time below the timer resolution (a
   * millisecond for Node's setTimeout). false: whole setTimeout turns only, so the callback may
   * run up to a resolution step late; for a timer armed while a batch computes, whose polling
   * would take a core from it. Default true.
   */
  poll?: boolean;
}

/** Node clamps setTimeout to whole milliseconds (1 ms at least); below that the timer polls with setImmediate. */
const TIMEOUT_RESOLUTION_US = 1000;

interface RealTimer {
  timeout?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
  cancelled: boolean;
  /** performance.now() time (µs) it falls due. */
  due: number;
}

/** realClock's polling timers not yet fired or cleared: sleepUntil() wakes in time for them. */
const pending = new Set<RealTimer>();

/** When the earliest pending polling realClock timer falls due (performance.now() µs); Infinity with none. */
export function nextTimerDue(): number {
  let next = Infinity;
  for (const t of pending) next = Math.min(next, t.due);
  return next;
}

/**
 * How late Node's setTimeout fires (µs): jumps up to each lateness seen and decays by a tenth of
 * the gap per fire below it, so a busy spell makes the timers poll longer for a while.
 */
let setTimeoutLateUs = 300;

/**
 * performance.now() with timers that fire on time below a millisecond: a delay of 250 µs must not
 * become 1 ms, or every batcher policy under 1 ms would behave as maxDelay = 1 ms, and a batch
 * must leave by its deadline (maxDelay is an upper bound, as Triton's max_queue_delay). Node
 * fires a setTimeout late (0.05-0.3 ms idle, more on a busy machine), so the setTimeout part ends
 * the running estimate of that lateness before the deadline and setImmediate polling covers the
 * rest. Polling is kept that short because a busy-looping process on a loaded machine is
 * descheduled: polling a whole extra millisecond made maxDelay 2 ms batches later, not earlier
 * (p90 lateness 1.6-2.0 ms against 0.02-0.7 ms, 2 cores at load 3-4). With `poll: false` whole
 * setTimeout turns run until the deadline has passed: never early, possibly late.
 */
export const realClock: Clock = {
  now: () => performance.now() * 1000,
  setTimer(callback, delayUs, options) {
    const due = performance.now() * 1000 + delayUs;
    const polls = options?.poll ?? true;
    const timer: RealTimer = { cancelled: false, due };
    // A timer that may be late anyway is not worth a sleeper's polling either.
    if (polls) pending.add(timer);
    let wake = NaN;
    // Always asynchronous, even when already due: the batcher arms timers in the middle of its own bookkeeping.
    const schedule = () => {
      const now = performance.now() * 1000;
      const margin = polls ? Math.min(setTimeoutLateUs, TIMEOUT_RESOLUTION_US) : 0;
      const ms = polls
        ? Math.floor((due - now - margin) / TIMEOUT_RESOLUTION_US)
        : Math.max(1, Math.ceil((due - now) / TIMEOUT_RESOLUTION_US));
      if (ms >= 1) {
        wake = now + ms * TIMEOUT_RESOLUTION_US;
        timer.timeout = setTimeout(fire, ms);
      } else timer.immediate = setImmediate(poll);
    };
    const fire = () => {
      const late = performance.now() * 1000 - wake;
      setTimeoutLateUs = late > setTimeoutLateUs ? late : setTimeoutLateUs + 0.1 * (late - setTimeoutLateUs);
      poll();
    };
    const poll = () => {
      if (timer.cancelled) return;
      if (performance.now() * 1000 >= due) {
        pending.delete(timer);
        callback();
      } else schedule();
    };
    schedule();
    return timer;
  },
  clearTimer(handle) {
    const timer = handle as RealTimer;
    timer.cancelled = true;
    pending.delete(timer);
    if (timer.timeout) clearTimeout(timer.timeout);
    if (timer.immediate) clearImmediate(timer.immediate);
  },
};

/** Longest the load generator blocks its thread at once (ms): completions wait at most this long for the event loop. */
const SLEEP_SLICE_MS = 0.05;

/** A realClock timer due within this (ms) is polled for, not slept past: a sleep overshoots by about this much. */
const TIMER_GUARD_MS = 0.1;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Resolves at `ms` (performance.now() time) without spinning, for a load generator sharing the
 * process with the network it measures: realClock's setImmediate polling would keep a core busy
 * between arrivals, and on a machine whose cores all compute a batch that takes a third of them
 * (on 2 cores, a batch of 16 ran half as fast beside it). Whole milliseconds go to setTimeout; the
 * rest passes in sleeps of at most SLEEP_SLICE_MS (Atomics.wait), with an event-loop turn between
 * two, so that completions are still handled within about that. A sleep never runs into a
 * pending realClock timer (a batcher's maxDelay): within TIMER_GUARD_MS of one, the turns poll.
 */
export function sleepUntil(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const step = () => {
      const now = performance.now();
      const left = ms - now;
      const timer = nextTimerDue() / 1000 - now - TIMER_GUARD_MS;
      if (left <= 0) resolve();
      else if (left >= 1) setTimeout(step, Math.floor(left));
      else {
        const nap = Math.min(left, SLEEP_SLICE_MS, timer);
        if (nap > 0) Atomics.wait(sleeper, 0, 0, nap);
        setImmediate(step);
      }
    };
    step();
  });
}
