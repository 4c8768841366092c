// The strategy tuner of a request (native/src/strategy_tuner.h), driven by run times the tests
// choose: which strategy a request runs after a given sequence of runs, with no clock involved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAddon, NativeStrategyTuner } from "../../kernel/plugins/native";

const addon = loadAddon();

type Times = Record<string, number>;

/** Runs the tuner `runs` times, each run taking times[next()] µs; returns how often each strategy ran. */
function drive(tuner: NativeStrategyTuner, runs: number, times: Times, handoffUs = 0): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    const s = tuner.next();
    seen[s] = (seen[s] ?? 0) + 1;
    tuner.record(times[s], handoffUs);
  }
  return seen;
}

/** Runs until the tuner has chosen; returns the number of runs it took. */
function measure(tuner: NativeStrategyTuner, times: Times, handoffUs = 0): number {
  let runs = 0;
  for (; tuner.measuring(); runs++) {
    assert.ok(runs < 100, "the measuring ends");
    tuner.record(times[tuner.next()], handoffUs);
  }
  return runs;
}

// open-closed-eye-0001 at n = 16 on two cores: split by samples is fastest when both cores are
// free; while another process holds one, the samples team's second thread waits for it.
const calm: Times = { samples: 270, layers: 1200, single: 440 };
const busy: Times = { samples: 600, layers: 3000, single: 440 };

test("a choice made during a busy moment is measured again and corrected once the moment has passed", () => {
  const tuner = new addon.StrategyTuner(["samples", "layers", "single"]);
  measure(tuner, busy);
  assert.equal(tuner.next(), "single");
  // Before probes, the choice stayed until 500 runs and 2 s of run time had passed (1000 runs here
  // take 0.44 s): the bench's dynamic request ran eye n = 16 1.67x slower than the static one.
  drive(tuner, 1000, calm);
  assert.equal(tuner.measuring(), false);
  assert.equal(tuner.next(), "samples");
  const after = drive(tuner, 1000, calm);
  assert.ok(after.samples > 950, `samples kept: ${JSON.stringify(after)}`);
});

test("a choice that stays the fastest is kept: the others are probed rarely and never replace it", () => {
  const tuner = new addon.StrategyTuner(["samples", "layers", "single"]);
  measure(tuner, calm);
  assert.equal(tuner.next(), "samples");
  const runs = 5000;
  const seen = drive(tuner, runs, calm);
  const probes = runs - seen.samples;
  assert.ok(probes > 0, "the other candidates are probed");
  // Probes cost about 2% of the run time: here one run in ~150.
  assert.ok(probes < runs / 50, `${probes} probes in ${runs} runs`);
  assert.ok(seen.layers > 0 && seen.single > 0, "every other candidate is probed");
  assert.equal(tuner.measuring(), false);
});

test("near-ties do not flap: a probe must beat the kept candidate's fastest run by the margin", () => {
  const tuner = new addon.StrategyTuner(["samples", "layers", "single"]);
  measure(tuner, { samples: 300, layers: 1200, single: 310 });
  assert.equal(tuner.next(), "samples");
  // single now 2% faster than samples: within the 5% margin, so samples stays and nothing is re-measured.
  const seen = drive(tuner, 3000, { samples: 300, layers: 1200, single: 294 });
  assert.equal(tuner.next(), "samples");
  assert.ok((seen.single ?? 0) < 60, `single ran ${seen.single} times`);
});

test("one lucky probe does not start the measuring again: a candidate must win two probes in a row", () => {
  const tuner = new addon.StrategyTuner(["samples", "layers", "single"]);
  measure(tuner, calm);
  let singleProbes = 0;
  for (let run = 0; run < 5000; run++) {
    const s = tuner.next();
    if (s === "single") singleProbes++;
    // Single's first probe lands on a moment that favours it (200 µs); its later ones take 440.
    tuner.record(s === "single" && singleProbes === 1 ? 200 : calm[s]);
    assert.equal(tuner.measuring(), false, `run ${run}`);
  }
  assert.ok(singleProbes > 1);
});

test("the kept strategy turning twice as slow for 8 runs in a row starts the measuring again", () => {
  const tuner = new addon.StrategyTuner(["samples", "single"]);
  measure(tuner, { samples: 270, single: 440 });
  assert.equal(tuner.next(), "samples");
  for (let i = 0; i < 7; i++) tuner.record(600);
  assert.equal(tuner.measuring(), false);
  tuner.record(600);
  assert.equal(tuner.measuring(), true);
  measure(tuner, { samples: 600, single: 440 });
  assert.equal(tuner.next(), "single");
});

test("a strategy whose runs are mostly slow loses to a steady one, however fast its fastest run", () => {
  // Head pose lone runs while another process takes a core now and then: on two threads a run is
  // fast when the core happens to be free and 3x slower when the barrier waits for it.
  const tuner = new addon.StrategyTuner(["layers", "single"]);
  let layersRuns = 0;
  for (let runs = 0; tuner.measuring(); runs++) {
    assert.ok(runs < 100, "the measuring ends");
    const s = tuner.next();
    tuner.record(s === "single" ? 1300 : layersRuns++ % 3 === 0 ? 500 : 3500);
  }
  assert.equal(tuner.next(), "single");
  // The same runs with layers fast two times in three: layers is the better choice and is kept.
  const calmer = new addon.StrategyTuner(["layers", "single"]);
  layersRuns = 0;
  while (calmer.measuring()) {
    const s = calmer.next();
    calmer.record(s === "single" ? 1300 : layersRuns++ % 3 === 0 ? 3500 : 500);
  }
  assert.equal(calmer.next(), "layers");
});

test("the handoff to the Runner is charged to layer-parallel runs", () => {
  const times = { layers: 100, single: 120 };
  const free = new addon.StrategyTuner(["layers", "single"]);
  measure(free, times, 0);
  assert.equal(free.next(), "layers");
  const charged = new addon.StrategyTuner(["layers", "single"]);
  measure(charged, times, 50);
  assert.equal(charged.next(), "single");
});

test("every sequence of runs ends in a choice among the candidates, and one candidate needs no measuring", () => {
  const one = new addon.StrategyTuner(["samples"]);
  assert.equal(one.measuring(), false);
  drive(one, 100, { samples: 1 });
  assert.equal(one.next(), "samples");
  const tuner = new addon.StrategyTuner(["layers", "single"]);
  // Times alternating between two regimes: the tuner measures again at times but always comes back to a choice.
  for (let phase = 0; phase < 20; phase++) {
    drive(tuner, 200, phase % 2 ? { layers: 100, single: 300 } : { layers: 300, single: 100 });
    measure(tuner, phase % 2 ? { layers: 100, single: 300 } : { layers: 300, single: 100 });
    assert.equal(tuner.next(), phase % 2 ? "layers" : "single", `phase ${phase}`);
  }
});

test("StrategyTuner refuses an empty or unknown candidate list", () => {
  assert.throws(() => new addon.StrategyTuner([]), /candidates must be a non-empty array/);
  assert.throws(() => new addon.StrategyTuner(["layers", "streams"]), /candidates\[1\] is 'streams'/);
});
