/**
 * When a batch leaves, on a ManualClock: never after its deadline (the oldest sample's enqueue +
 * maxDelayUs) and never before it, and the timer the batcher arms for it polls exactly while no
 * batch computes (polling beside a computing batch takes a core from it). Outputs are checked
 * against a batch-1 run of each sample on a plain request of the same network. Also warmUp(),
 * which the frontier runs so that its lightest load does not measure the plugin's tuning runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Blob, InferRequest, RequestTimeoutError } from "../../kernel";
import { randomData } from "../helpers/models";
import { ManualClock } from "../helpers/manual_clock";
import { checkAgainstBatch1, landmarks } from "../helpers/batch1_check";

const LIMIT = 4;

test("a batch leaves at its deadline, not a microsecond before or after; its timer polls only while no batch computes", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  const clock = new ManualClock();
  const batcher = exec.createBatcher({ maxDelayUs: 1000, requests: 2, clock });
  const [a, b] = [randomData(size, 1), randomData(size, 2)];
  const first = batcher.infer({ [input]: a });
  assert.deepEqual(clock.armed(), [{ due: 1000, poll: true }], "nothing computes: the deadline timer polls");
  clock.advance(999);
  assert.equal(batcher.stats().batches, 0, "999 µs: before the deadline");
  clock.advance(1);
  assert.deepEqual(batcher.stats().histogram, { 1: 1 }, "sent at 1000 µs");
  const second = batcher.infer({ [input]: b });
  assert.deepEqual(clock.armed(), [{ due: 2000, poll: false }], "a batch computes: no polling beside it");
  await checkAgainstBatch1(exec, input, a, await first);
  assert.deepEqual(clock.armed(), [{ due: 2000, poll: true }], "it ended before the deadline: the timer polls again");
  clock.advance(999);
  assert.equal(batcher.stats().batches, 1, "1999 µs: before the second deadline");
  clock.advance(1);
  assert.deepEqual(batcher.stats().histogram, { 1: 2 }, "sent at 2000 µs");
  assert.deepEqual(batcher.stats().queueWaitUs, { p50: 1000, p99: 1000 });
  await checkAgainstBatch1(exec, input, b, await second);
  assert.equal(clock.pending, 0);
  await batcher.close();
});

test("a deadline that passes while the only request computes sends the batch as that batch ends", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  const clock = new ManualClock();
  const batcher = exec.createBatcher({ maxDelayUs: 100, clock });
  const [a, b] = [randomData(size, 3), randomData(size, 4)];
  const first = batcher.infer({ [input]: a });
  clock.advance(100);
  const second = batcher.infer({ [input]: b });
  assert.equal(clock.pending, 0, "every request computes: a completion sends, no timer");
  clock.advance(5000);
  assert.equal(batcher.stats().batches, 1);
  await checkAgainstBatch1(exec, input, a, await first);
  assert.deepEqual(batcher.stats().histogram, { 1: 2 }, "sent by the completion, past its deadline");
  await checkAgainstBatch1(exec, input, b, await second);
  await batcher.close();
});

test("a timeout armed while a batch computes does not poll, and rejects at the timeout, not before", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  const clock = new ManualClock();
  const batcher = exec.createBatcher({ maxDelayUs: 0, timeoutUs: 3000, clock });
  const first = batcher.infer({ [input]: randomData(size, 5) });
  const late = batcher.infer({ [input]: randomData(size, 6) });
  let rejected: unknown;
  late.catch((e: unknown) => (rejected = e));
  assert.deepEqual(clock.armed(), [{ due: 3000, poll: false }]);
  clock.advance(2999);
  await null;
  assert.equal(rejected, undefined, "2999 µs: not yet timed out");
  clock.advance(1);
  await assert.rejects(late, RequestTimeoutError);
  await first;
  assert.equal(batcher.stats().timedOut, 1);
  await batcher.close();
});

test("on the real clock a lone sample is sent once its maxDelay has passed, not before, and gets its own outputs", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  const batcher = exec.createBatcher({ maxDelayUs: 1500 });
  for (let i = 0; i < 3; i++) {
    const sample = randomData(size, 10 + i);
    await checkAgainstBatch1(exec, input, sample, await batcher.infer({ [input]: sample }));
  }
  const st = batcher.stats();
  assert.deepEqual(st.histogram, { 1: 3 });
  assert.ok(st.queueWaitUs.p50 >= 1500, `waited ${st.queueWaitUs.p50} µs`);
  await batcher.close();
});

test("warmUp runs every batch size on each request, holds samples meanwhile, then serves them", async () => {
  const { exec, input, size } = await landmarks(LIMIT);
  const batcher = exec.createBatcher({ maxDelayUs: 0 });
  const sizes: number[] = [];
  const infer = InferRequest.prototype.infer;
  InferRequest.prototype.infer = function (this: InferRequest) {
    sizes.push(this.batchSize);
    return infer.call(this);
  };
  const sample = randomData(size, 20);
  let out: Promise<Record<string, Blob>>;
  try {
    const warming = batcher.warmUp(2);
    out = batcher.infer({ [input]: sample });
    assert.equal(batcher.stats().batches, 0, "the sample waits for the warm-up");
    await warming;
    await out;
  } finally {
    InferRequest.prototype.infer = infer;
  }
  const each = [1, 1, 2, 2, 3, 3, 4, 4];
  assert.deepEqual(sizes, [...each, ...each, 1], "n = 1..4 twice on each of the two requests, then the sample alone");
  await checkAgainstBatch1(exec, input, sample, await out);
  assert.deepEqual(batcher.stats().histogram, { 1: 1 });
  await batcher.close();
});
