/**
 * The models people export (issue 16): real ONNX files from npm packages, each read, bound, judged
 * in both modes and run at n = 1..4 against onnxruntime on the same file; the models that still
 * fail must fail with the typed error the table records. The last test prints README's table.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, DynbatchError, IECore } from "../../kernel";
import { blockingTypes, checkModel, modelInfo, ModelRow } from "./check";
import { MODEL_TABLE, ModelEntry, modelPath, packageInfo } from "./table";

const QUICK = process.env.DYNBATCH_QUICK === "1";
const BATCHES = [1, 2, 3, 4];
/** Issue 16: max abs error ≤ 1e-4 of the output range. */
const TOLERANCE = 1e-4;

const ie = new IECore();
const rows = new Map<ModelEntry, ModelRow | DynbatchError>();
/** Verdicts of the models that read but fail at load. */
const failed = new Map<ModelEntry, Pick<ModelRow, "strict" | "shapeAware">>();

for (const m of MODEL_TABLE) {
  test(`${m.id} (${m.pkg})`, async (t) => {
    if (m.fails) {
      const f = m.fails;
      const judge = (net: CNNNetwork) => {
        // What fails later can still be judged: the verdicts go in the table.
        const reports = { strict: net.analyze({ mode: "strict" }), shapeAware: net.analyze() };
        failed.set(m, reports);
        if (m.strict !== undefined) assert.equal(reports.strict.supported, m.strict);
        if (m.shapeAware !== undefined) assert.equal(reports.shapeAware.supported, m.shapeAware);
      };
      const run = async () => {
        const net = await ie.readNetwork(modelPath(m), { freeze: m.freeze });
        const bound = !net.inputs[m.input].shape.includes(-1);
        if (bound) judge(net);
        net.reshape({ [m.input]: m.shape });
        if (!bound) judge(net);
        await ie.loadNetwork(net, "CPU");
      };
      const err = await run().then(
        () => assert.fail(`${m.id} now loads: move it into the table's running models`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DynbatchError, String(err));
      assert.equal(err.code, f.code, err.message);
      assert.match(err.message, f.message);
      rows.set(m, err);
      return;
    }
    const row = await checkModel(ie, m, QUICK, BATCHES);
    rows.set(m, row);
    assert.equal(row.strict.supported, m.strict, `strict: ${row.strict.summary.blocking.join(", ")}`);
    assert.equal(row.shapeAware.supported, m.shapeAware, `shape-aware: ${row.shapeAware.summary.blocking.join(", ")}`);
    // A range of 0 would make any difference pass or fail by accident: the inputs must move the output.
    assert.ok(row.range > 0, `${m.id}: every output is ${row.range}`);
    const err = row.maxAbs / row.range;
    t.diagnostic(`max abs ${row.maxAbs.toExponential(2)}, range ${row.range.toPrecision(3)}, relative ${err.toExponential(2)}, ${row.ms} ms`);
    assert.ok(err <= TOLERANCE, `${m.id}: max abs error ${row.maxAbs} is ${err} of the output range ${row.range}`);
  });
}

test("at least 8 models from 3 packages run, covering the issue's list", () => {
  const ran = [...rows.values()].filter((r): r is ModelRow => !(r instanceof DynbatchError));
  if (rows.size < MODEL_TABLE.length) return; // a filtered run (--test-name-pattern) or a failed model, reported above
  assert.ok(ran.length >= 8, `${ran.length} models ran`);
  assert.ok(new Set(ran.map((r) => r.entry.pkg)).size >= 3);
  assert.ok(ran.some((r) => r.entry.fixedBatch && r.shapeAware.supported), "a Flatten+Gemm classifier exported with batch 1");
  assert.ok(ran.some((r) => /MatMul attention/.test(r.entry.ops)), "a recognizer with transformer-style blocks");
  assert.ok(ran.some((r) => /free N\/H\/W/.test(r.entry.ops) && r.entry.quickShape), "a CNN detector with free spatial dims");
});

function verdict(r: ModelRow["strict"]): string {
  return r.supported ? "yes" : `no (${blockingTypes(r)})`;
}

test("README table", () => {
  const lines = [
    "| model | package (licence) | opset / producer | ops of note | strict | shape-aware | runs | max error | onnxruntime vs itself |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const m of MODEL_TABLE) {
    const r = rows.get(m);
    if (!r) continue;
    const { source, license } = packageInfo(m.pkg);
    const info = modelInfo(modelPath(m));
    const licence = m.upstream ? `${license}; upstream ${m.upstream}` : license;
    const head = `| ${m.id} | ${source} (${licence}) | ${info.opset} / ${info.producer} | ${m.ops} |`;
    if (r instanceof DynbatchError) {
      const v = failed.get(m);
      const verdicts = v ? `${verdict(v.strict)} | ${verdict(v.shapeAware)}` : "— | —";
      lines.push(`${head} ${verdicts} | fails at ${m.fails!.at}: ${r.code} (${m.fails!.why}) | — | — |`);
      continue;
    }
    const runs = `${r.mode} n=${r.batches.join(",")} at [${r.shape.slice(1).join("×")}]`;
    const err = `${(r.maxAbs / r.range).toExponential(1)}${m.nominalRange ? ` (of the nominal range ${m.nominalRange}: saturated output)` : ""}`;
    const floor = (r.floorAbs / r.range).toExponential(1);
    lines.push(`${head} ${verdict(r.strict)} | ${verdict(r.shapeAware)} | ${runs} | ${err} | ${floor} |`);
  }
  console.log(`\nModels people export${QUICK ? " (quick mode)" : ""}:\n${lines.join("\n")}\n`);
});
