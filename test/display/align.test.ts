/**
 * HTML tables: text columns left-aligned, numbers right-aligned, by a style on every cell (JupyterLab
 * right-aligns every output table cell, overriding an `align` attribute). Checked on the header and
 * first row of each kind of table: performance counters, blocking layers, profile top layers, table().
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, table, toMimeBundle } from "../../kernel";
import type { PerfCount } from "../../kernel";
import { buildProfile } from "../../kernel/bench";
import { GraphBuilder } from "../helpers/graph_builder";

/** Per table in `html`: header text → [header alignment, first-row cell alignment]. */
function alignments(html: string): Map<string, [string, string]>[] {
  return [...html.matchAll(/<table[\s\S]*?<\/table>/g)].map(([t]) => {
    const style = (cell: string) => /^<t[dh] style="text-align:(left|right)"/.exec(cell)?.[1] ?? "none";
    const heads = [...t.matchAll(/<th[^>]*>[^<]*<\/th>/g)].map(([h]) => [h.replace(/<[^>]+>/g, ""), style(h)]);
    const firstRow = /<tbody><tr[^>]*>([\s\S]*?)<\/tr>/.exec(t)![1];
    const cells = [...firstRow.matchAll(/<td[^>]*>/g)].map(([c]) => style(c));
    return new Map(heads.map(([text, align], i) => [text, [align, cells[i]]]));
  });
}

function assertAligned(columns: Map<string, [string, string]>, text: string, number: string): void {
  assert.deepEqual(columns.get(text), ["left", "left"], `text column ${text}`);
  assert.deepEqual(columns.get(number), ["right", "right"], `numeric column ${number}`);
}

test("alignment: performance counters: layer names left, real time right", () => {
  const counts: Record<string, PerfCount> = {
    conv: { status: "EXECUTED", layerType: "Convolution", execType: "jit", realTimeUs: 120, cpuTimeUs: 120 },
    relu: { status: "EXECUTED", layerType: "ReLU", execType: "ref", realTimeUs: 3, cpuTimeUs: 3 },
  };
  const [columns] = alignments(toMimeBundle(counts)["text/html"]);
  assertAligned(columns, "layer", "real time µs");
  assertAligned(columns, "exec type", "share");
});

test("alignment: blocking layers and the all-layers table: every column text, left-aligned", () => {
  const b = new GraphBuilder("reduce");
  b.result(b.op("ReduceSum", [b.param("x", [1, 8]), b.ints([0])], { keep_dims: true }, { name: "sum" }), "out");
  const [blocking, all] = alignments(toMimeBundle(new CNNNetwork(b.build()).analyze())["text/html"]);
  assert.deepEqual(
    [...blocking.values()],
    [...Array(3)].map(() => ["left", "left"]),
  );
  assert.deepEqual(all.get("output shape"), ["left", "left"]);
  assert.deepEqual(all.get("layer"), ["left", "left"]);
});

test("alignment: profile top layers: names and types left, times and ranks right", () => {
  const r = buildProfile({
    model: "m",
    device: "CPU",
    layers: [{ name: "conv", type: "Convolution", execType: "jit:avx2" }],
    batches: [1, 4].map((n) => ({ batch: n, wallUs: [15 + 10 * n], layerUs: [[10 * n]] })),
  });
  const [top, totals] = alignments(toMimeBundle(r)["text/html"]);
  assertAligned(top, "layer", "#");
  assertAligned(top, "type", "µs/sample");
  assertAligned(top, "fused in", "% of request");
  assert.deepEqual(totals.get("request µs"), ["right", "right"]);
});

test("alignment: table(): a column of strings left, a column of numbers right", () => {
  const [columns] = alignments(toMimeBundle(table([{ model: "eye", rate: 9961 }]))["text/html"]);
  assertAligned(columns, "model", "rate");
});
