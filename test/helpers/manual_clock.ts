/** A Clock that moves only when a test says so: batch formation by delay and timeouts without wall-clock timing. */
import { Clock, TimerOptions } from "../../kernel";

interface Timer {
  due: number;
  callback: () => void;
  /** The timer's `poll` option (default true). */
  poll: boolean;
}

export class ManualClock implements Clock {
  private t = 0;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.t;
  }

  setTimer(callback: () => void, delayUs: number, options?: TimerOptions): unknown {
    const timer = { due: this.t + delayUs, callback, poll: options?.poll ?? true };
    this.timers.add(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  /** Moves time forward by `us`, firing each timer that falls due, earliest first, at its due time. */
  advance(us: number): void {
    const end = this.t + us;
    for (;;) {
      const next = [...this.timers].filter((x) => x.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.timers.delete(next);
      this.t = Math.max(this.t, next.due);
      next.callback();
    }
    this.t = end;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** The timers waiting to fire, earliest first: when each falls due and whether it may poll. */
  armed(): { due: number; poll: boolean }[] {
    return [...this.timers].sort((a, b) => a.due - b.due).map(({ due, poll }) => ({ due, poll }));
  }
}
