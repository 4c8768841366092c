/**
 * The profile bundle: all three MIME parts, the JSON part equal to the report, the graph coloured
 * by time at the largest batch (read back by Python's parsers), the top layers in order of time,
 * and model-supplied names as text, capped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PROFILE_MIME, toMimeBundle } from "../../kernel";
import type { ProfileReport } from "../../kernel";
import { buildProfile } from "../../kernel/bench";
import { heatColor, topLayers } from "../../kernel/display/profile";
import { NAME_MAX } from "../../kernel/display/names";
import { validateProfileReport } from "./validate";
import { assertInert, readHtml } from "./html";

const EVIL = "<img src=x onerror=alert(1)>";

/** conv takes 10 + n µs, the matmul named EVIL 2 + 20n µs with a Relu fused into it; 3 µs outside. */
function report(name = EVIL): ProfileReport {
  const batches = [1, 4, 8];
  return buildProfile({
    model: `<script>alert("m")</script>`,
    device: "CPU",
    layers: [
      { name: "conv", type: "Convolution", execType: "jit:avx2" },
      { name, type: "MatMul", execType: "gemm:<ref>", precision: "U8" },
      { name: "relu", type: "Relu", execType: "undef", fusedInto: name },
    ],
    batches: batches.map((n) => ({ batch: n, wallUs: [15 + 21 * n], layerUs: [[10 + n, 2 + 20 * n, 0]] })),
    graph: [
      { id: 0, name: "input", type: "Parameter", inputs: [] },
      { id: 1, name: "conv", type: "Convolution", inputs: [0] },
      { id: 2, name, type: "MatMul", inputs: [1] },
      { id: 3, name: "relu", type: "Relu", inputs: [2] },
      { id: 4, name: "out", type: "Result", inputs: [3] },
    ],
  });
}

test("heatColor runs from the lightest to the darkest stop through the middle one", () => {
  assert.equal(heatColor(0), "#fff5eb");
  assert.equal(heatColor(0.5), "#fd8d3c");
  assert.equal(heatColor(1), "#7f2704");
  assert.equal(heatColor(7), "#7f2704");
  assert.equal(heatColor(NaN), "#fff5eb");
});

test("profile bundle: JSON is the report; the graph is coloured by time at the largest batch, the hottest box darkest", () => {
  const r = report();
  const b = toMimeBundle(r);
  assert.deepEqual(Object.keys(b).sort(), [PROFILE_MIME, "text/html", "text/plain"].sort());
  assert.deepEqual(b[PROFILE_MIME], r);
  assert.deepEqual(validateProfileReport(b[PROFILE_MIME]), []);
  const html = readHtml(b["text/html"]);
  assertInert(html, EVIL);
  assert.ok(html.text.includes(`<script>alert("m")</script>`));
  assert.ok(html.text.includes("gemm:<ref>"));
  assert.equal(html.svgs.length, 2, "the legend and the graph");
  const [legend, graph] = html.svgs;
  assert.equal(legend.rectFills[0], heatColor(0));
  assert.equal(legend.rectFills.at(-1), heatColor(1));
  // At n = 8 the matmul takes 162 µs and conv 18 µs of a 183 µs request.
  assert.ok(html.text.includes("162 µs · 88.5%"), "the legend's top is the hottest layer, in µs and %");
  assert.equal(graph.counts.rect, 5);
  assert.equal(graph.counts.line, 3, "input → conv → matmul → out: the fused Relu is inside the matmul's box");
  const hot = graph.rectFills.indexOf(heatColor(1));
  assert.ok(graph.titles[hot].startsWith(EVIL) && graph.titles[hot].includes("≈ 2.00 µs + 20.0 µs · n (R² 1.000)"));
  assert.ok(graph.titles[hot].includes("gemm:<ref> U8"), "implementation and precision");
  assert.equal(graph.rectFills[1], heatColor(18 / 162));
  assert.ok(graph.titles[3].startsWith("relu\nRelu, fused into ") && graph.titles[3].includes(EVIL), "the chip's tooltip");
  assert.deepEqual([graph.rectFills[0], graph.rectFills[3], graph.rectFills[4]], ["#ffffff", "#ffffff", "#ffffff"]);
});

test("profile text: the top layers slowest first with their fit, and each batch's time with what lies outside the layers", () => {
  const r = report();
  assert.deepEqual(
    topLayers(r, 0).map((l) => l.name),
    [EVIL, "conv"],
    "at n = 1 the matmul (22 µs) still leads conv (11 µs)",
  );
  const text = toMimeBundle(r)["text/plain"];
  const rows = text.split("\n");
  const first = rows.findIndex((l) => l.startsWith("1 "));
  assert.match(
    rows[first],
    new RegExp(`^1 +${EVIL.replace(/[()]/g, "\\$&")} +MatMul +gemm:<ref> +U8 +162 +88\\.5% +20\\.0 +2\\.00 +1\\.000 +relu$`),
  );
  assert.match(rows[first + 1], /^2 +conv +Convolution +jit:avx2 +– +18\.0 +9\.8% +1\.00 +10\.0 +1\.000$/);
  assert.match(text, /^8 +183 +180 +3\.00 +1\.6% +22\.9$/m);
  assert.match(text, /^1 +36\.0 +33\.0 +3\.00 +8\.3% +36\.0$/m);
});

test("megabyte names: the JSON keeps them whole, HTML and text show capped copies", () => {
  const big = "L".repeat(1 << 20);
  const b = toMimeBundle(report(big));
  assert.equal((b[PROFILE_MIME] as ProfileReport).layers[1].name, big);
  for (const part of ["text/html", "text/plain"] as const) {
    assert.ok(b[part].length < 20_000, `${part} is ${b[part].length} characters`);
    assert.ok(b[part].includes(`${"L".repeat(NAME_MAX)}… (${big.length} characters)`));
  }
});

test("a profile without a graph (no dynamic batch) shows the tables only", () => {
  const { graph: _g, ...r } = report();
  const html = readHtml(toMimeBundle(r)["text/html"]);
  assert.equal(html.svgs.length, 0);
  assert.ok(html.text.includes("Top layers at n = 8"));
});
