/**
 * The batcher on the CPU: every caller's outputs equal a batch-1 run of its own sample (on a
 * network loaded separately at batch 1), batch formation by count and by delay, timeouts, a full
 * queue, close(), padding of a static network, priorities, a failing batch and bad input. Time
 * is a ManualClock wherever the test is about when batches form: no wall-clock assertion.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Batcher,
  BatcherClosedError,
  Blob,
  ConfigError,
  ExecutableNetwork,
  IECore,
  InferRequest,
  InputError,
  NativeError,
  QueueFullError,
  RequestTimeoutError,
} from "../../kernel";
import { irPath, maxRelDiff, numel, randomData } from "../helpers/models";
import { ManualClock } from "../helpers/manual_clock";

const LANDMARKS = irPath("landmarks-regression-retail-0009");
const HEAD_POSE = irPath("head-pose-estimation-adas-0001");
const LIMIT = 8;
const TOLERANCE = 1e-5;
const CALLS = process.env.DYNBATCH_QUICK ? 1000 : 10_000;

interface Setup {
  exec: ExecutableNetwork;
  input: string;
  sampleSize: number;
  /** Each output of one sample, run alone on a network loaded at batch 1. */
  oracle: (sample: Float32Array) => Promise<Record<string, Float32Array>>;
}

async function setup(model: string, opts: { dynamic: boolean; batch: number; device?: string }): Promise<Setup> {
  const ie = new IECore();
  const net = await ie.readNetwork(model);
  const input = Object.keys(net.inputs)[0];
  const sampleSize = numel(net.inputs[input].shape.slice(1));
  const single = await ie.loadNetwork(net, "CPU");
  net.batchSize = opts.batch;
  const exec = await ie.loadNetwork(net, opts.device ?? "CPU", opts.dynamic ? { DYN_BATCH_ENABLED: "YES" } : {});
  const req = single.createInferRequest();
  const oracle = async (sample: Float32Array) => {
    req.setInput(input, sample);
    await req.infer();
    return Object.fromEntries(Object.keys(single.outputs).map((o) => [o, Float32Array.from(req.getBlob(o).data)]));
  };
  return { exec, input, sampleSize, oracle };
}

function check(got: Record<string, Blob>, want: Record<string, Float32Array>, what: string, tolerance = TOLERANCE): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), what);
  for (const [name, blob] of Object.entries(got)) {
    assert.equal(blob.shape[0], 1, `${what} ${name} is shaped [1, …]`);
    const err = maxRelDiff(blob.data, want[name]);
    assert.ok(err <= tolerance, `${what} ${name}: error ${err} against its own batch-1 run`);
  }
}

/** Whether `p` has settled, after letting the microtasks already queued run (no timer, no clock). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10; i++) await null;
  return done;
}

const samplesOf = (s: Setup, n: number, seed: number) => Array.from({ length: n }, (_, i) => randomData(s.sampleSize, seed + i));

for (const model of [LANDMARKS, HEAD_POSE]) {
  test(`${model.split("/").pop()}: concurrent callers in random arrival order each get their own sample's outputs`, async () => {
    const s = await setup(model, { dynamic: true, batch: LIMIT });
    const batcher = s.exec.createBatcher({ maxDelayUs: 500, requests: 3 });
    const samples = samplesOf(s, 60, 1000);
    const order = samples.map((_, i) => i);
    const rand = randomData(order.length, 7, 0, 1);
    order.sort((a, b) => rand[a] - rand[b]);
    // Callers arrive in bursts separated by event-loop turns, so batches of every size form and overlap.
    const results = new Array<Promise<Record<string, Blob>>>(samples.length);
    for (const [k, i] of order.entries()) {
      results[i] = batcher.infer({ [s.input]: samples[i] });
      if (rand[k] < 0.3) await new Promise((r) => setImmediate(r));
    }
    const got = await Promise.all(results);
    for (const [i, sample] of samples.entries()) check(got[i], await s.oracle(sample), `sample ${i}`);
    const st = batcher.stats();
    assert.equal(st.completed, samples.length);
    assert.equal(st.computedSamples, samples.length);
    assert.equal(
      Object.entries(st.histogram).reduce((sum, [n, count]) => sum + Number(n) * count, 0),
      samples.length,
    );
    assert.ok(Object.keys(st.histogram).every((n) => Number(n) >= 1 && Number(n) <= LIMIT));
    assert.equal(st.paddedSamples, 0);
    await batcher.close();
  });
}

test(`${CALLS} calls from 50 concurrent callers: each result belongs to its own input`, async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: 16 });
  const batcher = s.exec.createBatcher({ maxDelayUs: 200, requests: 4 });
  const distinct = samplesOf(s, 64, 5000);
  const want: Record<string, Float32Array>[] = [];
  for (const x of distinct) want.push(await s.oracle(x));
  let next = 0;
  const caller = async () => {
    while (next < CALLS) {
      const i = next++;
      const k = (i * 7919) % distinct.length;
      check(await batcher.infer({ [s.input]: distinct[k] }), want[k], `call ${i}`);
    }
  };
  await Promise.all(Array.from({ length: 50 }, caller));
  const st = batcher.stats();
  assert.equal(st.completed, CALLS);
  assert.ok(st.batches < CALLS, `${st.batches} batches for ${CALLS} calls: samples were coalesced`);
  await batcher.close();
});

test("a batch forms by count: with a long delay, maxBatch samples leave as one batch at once", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1e9, clock });
  const samples = samplesOf(s, LIMIT + 3, 200);
  const results = samples.map((x) => batcher.infer({ [s.input]: x }));
  // No time passed: the first LIMIT left because the batch was full; the last 3 wait for the delay.
  assert.deepEqual(batcher.stats().histogram, { [LIMIT]: 1 });
  assert.equal(batcher.stats().queued, 3);
  const first = await Promise.all(results.slice(0, LIMIT));
  assert.equal(await settled(results[LIMIT]), false);
  clock.advance(1e9);
  const rest = await Promise.all(results.slice(LIMIT));
  for (const [i, out] of [...first, ...rest].entries()) check(out, await s.oracle(samples[i]), `sample ${i}`);
  assert.deepEqual(batcher.stats().histogram, { [LIMIT]: 1, 3: 1 });
  await batcher.close();
});

test("a batch forms by delay: sent when the oldest sample has waited maxDelayUs, not before", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1000, clock });
  const samples = samplesOf(s, 3, 300);
  const results = [batcher.infer({ [s.input]: samples[0] })];
  clock.advance(400);
  results.push(batcher.infer({ [s.input]: samples[1] }), batcher.infer({ [s.input]: samples[2] }));
  clock.advance(599);
  assert.equal(batcher.stats().batches, 0, "the oldest has waited 999 µs");
  clock.advance(1);
  assert.deepEqual(batcher.stats().histogram, { 3: 1 });
  const got = await Promise.all(results);
  for (const [i, out] of got.entries()) check(out, await s.oracle(samples[i]), `sample ${i}`);
  // Waits of 1000, 600 and 600 µs on the manual clock.
  assert.equal(batcher.stats().queueWaitUs.p50, 600);
  assert.ok(Math.abs(batcher.stats().queueWaitUs.p99 - (600 + 0.98 * 400)) < 1e-9);
  await batcher.close();
});

test("maxDelayUs 0 sends at once; while every request is busy samples gather into the next batch", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 0, requests: 1, clock });
  const samples = samplesOf(s, 5, 400);
  const results = samples.map((x) => batcher.infer({ [s.input]: x }));
  assert.deepEqual(batcher.stats().histogram, { 1: 1 });
  const got = await Promise.all(results);
  assert.deepEqual(batcher.stats().histogram, { 1: 1, 4: 1 });
  for (const [i, out] of got.entries()) check(out, await s.oracle(samples[i]), `sample ${i}`);
  await batcher.close();
});

test("while a batch computes, a partial batch waits past maxDelay; a full one goes at once to the spare request", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 100, clock });
  const samples = samplesOf(s, 3 + LIMIT, 1300);
  const infer = (x: Float32Array) => batcher.infer({ [s.input]: x });
  // No await until the end: the first batch's completion cannot run before the checks.
  const results = [infer(samples[0])];
  clock.advance(100);
  assert.deepEqual(batcher.stats().histogram, { 1: 1 }, "sent once its delay ended, on an idle network");
  results.push(infer(samples[1]), infer(samples[2]));
  clock.advance(10_000);
  assert.deepEqual(batcher.stats().histogram, { 1: 1 }, "a partial batch waits for the computing one");
  results.push(...samples.slice(3).map(infer));
  assert.deepEqual(batcher.stats().histogram, { 1: 1, [LIMIT]: 1 }, "a full batch leaves at once");
  assert.equal(batcher.stats().inFlight, 1 + LIMIT);
  // The full batch took the oldest LIMIT; the last two, just queued, wait for their own delay.
  assert.equal(batcher.stats().queued, 2);
  await Promise.all(results.slice(0, 1 + LIMIT));
  clock.advance(100);
  const got = await Promise.all(results);
  for (const [i, out] of got.entries()) check(out, await s.oracle(samples[i]), `sample ${i}`);
  assert.deepEqual(batcher.stats().histogram, { 1: 1, 2: 1, [LIMIT]: 1 });
  await batcher.close();
});

test("a sample that waits timeoutUs is rejected with RequestTimeoutError and never computed", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 0, timeoutUs: 100, requests: 1, clock });
  const samples = samplesOf(s, 3, 500);
  // The first takes the only request; the other two wait behind it past their timeout.
  const [a, b, c] = samples.map((x) => batcher.infer({ [s.input]: x }));
  clock.advance(100);
  for (const p of [b, c])
    await assert.rejects(
      p,
      (e: unknown) => e instanceof RequestTimeoutError && e.code === "REQUEST_TIMEOUT" && e.timeoutUs === 100,
    );
  check(await a, await s.oracle(samples[0]), "sample 0");
  const st = batcher.stats();
  assert.equal(st.timedOut, 2);
  assert.equal(st.computedSamples, 1);
  assert.deepEqual(st.histogram, { 1: 1 });
  await batcher.close();
});

test("a full queue rejects at once with QueueFullError; the queued samples still run", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1e6, maxQueue: 2, clock });
  const samples = samplesOf(s, 3, 600);
  const queued = samples.slice(0, 2).map((x) => batcher.infer({ [s.input]: x }));
  const refused = batcher.infer({ [s.input]: samples[2] });
  assert.equal(await settled(refused), true, "rejected without any time passing");
  await assert.rejects(refused, (e: unknown) => e instanceof QueueFullError && e.code === "QUEUE_FULL" && e.maxQueue === 2);
  assert.equal(batcher.stats().rejected, 1);
  clock.advance(1e6);
  for (const [i, p] of queued.entries()) check(await p, await s.oracle(samples[i]), `sample ${i}`);
  await batcher.close();
});

test("close() sends what is queued without waiting for the delay, resolves when all are answered, then refuses", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1e9, clock });
  const samples = samplesOf(s, 5, 700);
  const results = samples.map((x) => batcher.infer({ [s.input]: x }));
  const done = [false];
  const closed = batcher.close().then(() => (done[0] = true));
  assert.deepEqual(batcher.stats().histogram, { 5: 1 }, "sent at close without the clock moving");
  await assert.rejects(batcher.infer({ [s.input]: samples[0] }), (e: unknown) => e instanceof BatcherClosedError);
  await closed;
  for (const [i, p] of results.entries()) {
    assert.equal(await settled(p), true, `sample ${i} answered before close() resolved`);
    check(await p, await s.oracle(samples[i]), `sample ${i}`);
  }
  assert.equal(batcher.stats().completed, 5);
  assert.equal(clock.pending, 0, "no timer left behind");
  await batcher.close();
});

test("a static network is served by padding to its batch; stats count the wasted samples", async () => {
  const s = await setup(LANDMARKS, { dynamic: false, batch: 4 });
  assert.equal(s.exec.dynamicBatch, false);
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1000, clock });
  const samples = samplesOf(s, 7, 800);
  const results = samples.map((x) => batcher.infer({ [s.input]: x }));
  clock.advance(1000);
  for (const [i, p] of results.entries()) check(await p, await s.oracle(samples[i]), `sample ${i}`);
  const st = batcher.stats();
  assert.deepEqual(st.histogram, { 4: 1, 3: 1 });
  assert.equal(st.paddedSamples, 1);
  assert.equal(st.computedSamples, 7);
  await batcher.close();
});

test("high-priority samples are sent before normal ones that waited longer", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 0, requests: 1, maxBatch: 2, clock });
  const samples = samplesOf(s, 6, 900);
  const order: string[] = [];
  const submit = (name: string, i: number, priority: "high" | "normal") =>
    batcher.infer({ [s.input]: samples[i] }, { priority }).then((out) => {
      order.push(name);
      return out;
    });
  // a runs; n1 and n2, a full batch, go at once to the spare request; n3, n4 and h wait for both
  // requests: the next batch (of 2) is h and n3, then n4.
  const all = [
    submit("a", 0, "normal"),
    submit("n1", 1, "normal"),
    submit("n2", 2, "normal"),
    submit("n3", 3, "normal"),
    submit("n4", 4, "normal"),
    submit("h", 5, "high"),
  ];
  const got = await Promise.all(all);
  assert.deepEqual(order.slice(1), ["n1", "n2", "h", "n3", "n4"]);
  for (const [i, out] of got.entries()) check(out, await s.oracle(samples[i]), `sample ${i}`);
  assert.deepEqual(batcher.stats().histogram, { 1: 2, 2: 2 });
  await batcher.close();
});

test("a batch that fails in the network rejects each of its callers; the batcher keeps serving", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1000, requests: 1, clock });
  const infer = InferRequest.prototype.infer;
  const fault = new NativeError("injected fault");
  InferRequest.prototype.infer = function () {
    InferRequest.prototype.infer = infer;
    return Promise.reject(fault);
  };
  try {
    const samples = samplesOf(s, 4, 1100);
    const failing = samples.slice(0, 3).map((x) => batcher.infer({ [s.input]: x }));
    clock.advance(1000);
    for (const p of failing) await assert.rejects(p, (e: unknown) => e === fault);
    const ok = batcher.infer({ [s.input]: samples[3] });
    clock.advance(1000);
    check(await ok, await s.oracle(samples[3]), "after the fault");
    assert.equal(batcher.stats().failed, 3);
    assert.equal(batcher.stats().completed, 1);
  } finally {
    InferRequest.prototype.infer = infer;
  }
  await batcher.close();
});

test("bad options are ConfigErrors naming the option", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ maxDelayUs: -1 }, /maxDelayUs.*≥ 0.*-1/],
    [{ maxDelayUs: NaN }, /maxDelayUs/],
    [{ maxQueue: 0 }, /maxQueue.*≥ 1/],
    [{ maxQueue: 2.5 }, /maxQueue.*integer/],
    [{ timeoutUs: -5 }, /timeoutUs/],
    [{ requests: 0 }, /requests/],
    [{ maxBatch: LIMIT + 1 }, /maxBatch 9 exceeds the network's batch limit 8/],
    [{ maxDelay: 10 }, /unknown option 'maxDelay'/],
  ];
  for (const [options, message] of bad)
    assert.throws(
      () => s.exec.createBatcher(options),
      (e: unknown) => e instanceof ConfigError && e.code === "BAD_CONFIG" && message.test(e.message),
      JSON.stringify(options),
    );
  assert.ok(s.exec.createBatcher() instanceof Batcher);
});

test("a bad sample is rejected for its caller only; the samples beside it still run", async () => {
  const s = await setup(LANDMARKS, { dynamic: true, batch: LIMIT });
  const clock = new ManualClock();
  const batcher = s.exec.createBatcher({ maxDelayUs: 1000, clock });
  const good = samplesOf(s, 2, 1200);
  const a = batcher.infer({ [s.input]: good[0] });
  const bad: [unknown, RegExp][] = [
    [{ [s.input]: new Float32Array(s.sampleSize + 1) }, /has 6913 values, expected 6912 values \(shape \[1,3,48,48\]\)/],
    [{ nope: good[0] }, /no input named 'nope'/],
    [{}, /input '.*' is missing/],
    [{ [s.input]: new Blob([2, 3, 48, 48], new Float32Array(2 * s.sampleSize), "NCHW") }, /Blob of shape \[2,3,48,48\]/],
    [{ [s.input]: "text" }, /must be a Float32Array, an array of numbers or a Blob/],
    [null, /expected \{ inputName: values \}/],
  ];
  for (const [sample, message] of bad)
    await assert.rejects(
      batcher.infer(sample as Record<string, Float32Array>),
      (e: unknown) => e instanceof InputError && e.code === "BAD_INPUT" && message.test(e.message),
      String(message),
    );
  await assert.rejects(
    batcher.infer({ [s.input]: good[1] }, { priority: "urgent" as "high" }),
    (e: unknown) => e instanceof InputError && /priority/.test(e.message),
  );
  const blob = batcher.infer({ [s.input]: new Blob([1, 3, 48, 48], good[1], "NCHW") });
  clock.advance(1000);
  check(await a, await s.oracle(good[0]), "sample 0");
  check(await blob, await s.oracle(good[1]), "sample 1 as a Blob");
  assert.equal(batcher.stats().invalid, bad.length + 1);
  assert.deepEqual(batcher.stats().histogram, { 2: 1 });
  await batcher.close();
});
