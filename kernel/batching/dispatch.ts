/**
 * When a waiting batch leaves: the batcher's dispatch policy, shared with the simulator.
 *   "deadline" (Triton's dynamic batcher): when it is full, or once its oldest sample has waited
 *     maxDelayUs.
 *   "work-conserving": the same while a batch computes; while none does, also as soon as the
 *     measured arrival rate expects at most one more sample before that deadline. At light load a
 *     lone sample then leaves at once instead of idling the device for maxDelay; under load (a
 *     batch computing, or arrivals dense enough to grow the batch) it waits exactly as "deadline".
 *     maxDelay stays an upper bound either way.
 */
export type DispatchPolicy = "deadline" | "work-conserving";

export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ["deadline", "work-conserving"];

/** Arrivals the rate is measured over: enough to smooth Poisson gaps, few enough to follow a change of load within a few samples. */
const WINDOW = 8;

/** The recent arrival rate, from the last WINDOW arrival times (µs, as the batcher's clock gives them). */
export class ArrivalRate {
  private readonly times = new Float64Array(WINDOW);
  private count = 0;

  note(t: number): void {
    this.times[this.count++ % WINDOW] = t;
  }

  /**
   * The earliest time t (µs) from which at most one more arrival is expected before `deadline`.
   * Over the last m arrivals, the first at `first`, the rate at t is (m − 1) / (t − first): the
   * silence since the last arrival counts, so a load that stops lowers it as time passes. Then
   * rate × (deadline − t) ≤ 1 ⇔ t ≥ ((m − 1) · deadline + first) / m. With fewer than two
   * arrivals seen there is no rate yet: −Infinity (leave now).
   */
  leaveFrom(deadline: number): number {
    const m = Math.min(this.count, WINDOW);
    if (m < 2) return -Infinity;
    const first = this.times[(this.count - m) % WINDOW];
    return ((m - 1) * deadline + first) / m;
  }
}

/**
 * When the oldest waiting sample's batch is due (µs), short of being full: its deadline, or under
 * "work-conserving" with no batch computing, the earlier of that and ArrivalRate.leaveFrom.
 */
export function dueAt(policy: DispatchPolicy, deadline: number, computing: boolean, rate: ArrivalRate): number {
  return policy === "deadline" || computing ? deadline : Math.min(deadline, rate.leaveFrom(deadline));
}
