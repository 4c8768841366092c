/**
 * Rewrite "transpose-keep-batch": an attention block whose q/k/v split transposes the batch to axis
 * 1 and picks q, k and v on axis 0. The rewritten network, loaded with a dynamic batch, is checked
 * against attention computed here in plain arithmetic; variants the rewrite cannot keep identical
 * are refused with the reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CNNNetwork, IECore } from "../../kernel";
import { proposeBatchFixes } from "../../kernel/analysis/fix";
import { analyze } from "../../kernel/analysis";
import { PortRef } from "../../kernel/graph/graph";
import { uniform } from "../../kernel/random";
import { GraphBuilder } from "../helpers/graph_builder";

const T = 4; // tokens
const H = 2; // heads
const D = 3; // per-head width

type Pick = "slice+gather" | "split" | "strided" | "slice-no-squeeze" | "batch-on-axis-2" | "strided-batch";

/** x [1,T,3·H·D] → Reshape [0,T,3,H,D] → Transpose → q, k, v picked per `pick` → softmax(q·kᵀ)·v [N,H,T,D]. */
function attention(pick: Pick): GraphBuilder {
  const b = new GraphBuilder(`attention-${pick}`);
  const x = b.param("x", [1, T, 3 * H * D]);
  const r = b.op("Reshape", [x, b.ints([0, T, 3, H, D])], { special_zero: true }, { name: "to_qkv" });
  const perm = pick === "batch-on-axis-2" ? [2, 3, 0, 1, 4] : [2, 0, 3, 1, 4];
  const qkv = b.op("Transpose", [r, b.ints(perm)], {}, { name: "qkv_perm" });
  const axis0 = b.ints([0]);
  const squeeze = (p: PortRef, name: string) => b.op("Squeeze", [p, axis0], {}, { name });
  const slice = (i: number) => b.op("Slice", [qkv, b.ints([i]), b.ints([i + 1]), b.ints([1]), axis0], {}, { version: "opset8" });
  let q: PortRef, k: PortRef, v: PortRef;
  const strided = (begin: number[], end: number[], masks: Record<string, number[]>) =>
    b.op("StridedSlice", [qkv, b.ints(begin), b.ints(end), b.ints(begin.map(() => 1))], {
      begin_mask: begin.map(() => 0),
      end_mask: begin.map(() => 0),
      ...masks,
    });
  if (pick === "strided" || pick === "strided-batch") {
    // One entry kept by a Squeeze, one shrunk, and three entries with axis 1 whole (or, refused, sliced).
    q = squeeze(strided([0], [1], {}), "sq_q");
    k = strided([1], [2], { shrink_axis_mask: [1] });
    const whole = pick === "strided" ? 1 : 0;
    v = squeeze(strided([2, 0, 0], [3, 1, 0], { begin_mask: [0, whole, 0], end_mask: [0, whole, 1] }), "sq_v");
  } else if (pick === "split") {
    const parts = b.opN("Split", [qkv, b.constant([0], [], "i64")], { num_splits: 3 }, { outputs: 3 });
    [q, k, v] = parts.map((p, i) => squeeze(p, `sq${i}`));
  } else {
    q = squeeze(slice(0), "sq_q");
    // A scalar index drops axis 0 itself; v's Slice has no axes input (axis 0 by position).
    k = b.op("Gather", [qkv, b.constant([1], [], "i64"), b.constant([0], [], "i64")], {}, { version: "opset8" });
    const vs = b.op("Slice", [qkv, b.ints([2]), b.ints([3]), b.ints([1])], {}, { version: "opset8" });
    v = pick === "slice-no-squeeze" ? b.op("Reshape", [vs, b.ints([-1, H, T, D])], { special_zero: false }) : squeeze(vs, "sq_v");
  }
  const scores = b.op("MatMul", [q, k], { transpose_a: false, transpose_b: true });
  const p = b.op("SoftMax", [scores], { axis: 3 });
  b.result(b.op("MatMul", [p, v], { transpose_a: false, transpose_b: false }), "out");
  return b;
}

/** What the block computes for one sample x [T,3·H·D], laid out [H,T,D]. */
function reference(x: Float32Array): number[] {
  const at = (s: number, h: number, t: number, d: number) => x[t * 3 * H * D + s * H * D + h * D + d];
  const out: number[] = [];
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++) {
      const e = Array.from({ length: T }, (_, u) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += at(0, h, t, d) * at(1, h, u, d);
        return dot;
      });
      const max = Math.max(...e);
      const w = e.map((z) => Math.exp(z - max));
      const sum = w.reduce((a, c) => a + c, 0);
      for (let d = 0; d < D; d++) out.push(w.reduce((a, wu, u) => a + (wu / sum) * at(2, h, u, d), 0));
    }
  return out;
}

for (const pick of ["slice+gather", "split", "strided"] as const) {
  test(`fixForDynamicBatch: the q/k/v split (${pick}) keeps the batch first; batch 3 equals attention per sample`, async () => {
    const net = new CNNNetwork(attention(pick).build());
    assert.equal(net.analyze().supported, false);
    const { network, changes } = await net.fixForDynamicBatch();
    const what = {
      "slice+gather": "Slice×2, Squeeze×2, Gather×1",
      split: "Split×1, Squeeze×3",
      strided: "StridedSlice×3, Squeeze×2",
    }[pick];
    assert.deepEqual(
      changes.map((c) => [c.layer, c.kind, c.applied, c.reason, c.before, c.after]),
      [
        [
          "qkv_perm",
          "transpose-keep-batch",
          true,
          "",
          `Transpose [2,0,3,1,4] → [3,1,${H},${T},${D}] (batch on axis 1); ${what} on axis 0`,
          `Transpose [0,2,3,1,4] → [1,3,${H},${T},${D}] (batch on axis 0); ${what} on axis 1`,
        ],
      ],
    );
    assert.deepEqual(
      changes[0].proof!.numeric.map((x) => x.n),
      [1, 2, 3, 4],
    );
    assert.ok(changes[0].proof!.numeric.every((x) => x.maxAbsError <= 1e-5));
    assert.equal(network.analyze().supported, true);

    const ie = new IECore();
    const rand = uniform(5);
    const x = Float32Array.from({ length: 3 * T * 3 * H * D }, () => rand() * 4 - 2);
    const per = T * 3 * H * D;
    const want = [0, 1, 2].flatMap((i) => reference(x.subarray(i * per, (i + 1) * per)));
    // The fixed network, and the same read back from IR (its new Consts and StridedSlice masks).
    const xml = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-qkv-ir-")), "fixed.xml");
    network.serialize(xml);
    for (const fixed of [network, await ie.readNetwork(xml)]) {
      fixed.batchSize = 4;
      const req = (await ie.loadNetwork(fixed, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
      req.setBatch(3);
      req.setInput("x", x);
      await req.infer();
      const got = req.getBlob(Object.keys(fixed.outputs)[0]).data;
      want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-5, `element ${i}: ${got[i]} vs ${w}`));
    }
  });
}

test("proposeBatchFixes: a q/k/v split whose selection keeps axis 0 for another reader than Squeeze is refused", () => {
  const g = attention("slice-no-squeeze").build();
  const { graph, changes } = proposeBatchFixes(g);
  const c = changes.find((x) => x.layer === "qkv_perm")!;
  assert.equal(c.kind, "none");
  assert.equal(c.applied, false);
  assert.equal(c.proof, null);
  assert.match(c.reason, /\(Reshape\) reads a selection that still holds axis 0: only a Squeeze of axis 0 may/);
  assert.equal(graph, g);
  assert.equal(analyze(graph).supported, false);
});

test("proposeBatchFixes: a Transpose that puts the batch on axis 2 is refused (axis 0 dropped, it would stay off axis 0)", () => {
  const { changes } = proposeBatchFixes(attention("batch-on-axis-2").build());
  const c = changes.find((x) => x.layer === "qkv_perm")!;
  assert.equal(c.applied, false);
  assert.match(c.reason, /perm \[2,3,0,1,4\] moves axis 0 to axis 2/);
});

test("proposeBatchFixes: a Transpose read by a layer that is not a selection along axis 0 is refused", () => {
  const b = new GraphBuilder("reduce");
  const x = b.param("x", [1, 3, 4]);
  const t = b.op("Transpose", [x, b.ints([1, 0, 2])], {}, { name: "swap" });
  b.result(b.op("ReduceSum", [t, b.ints([0])], { keep_dims: false }, { name: "sum" }), "out");
  const { changes } = proposeBatchFixes(b.build());
  assert.deepEqual(
    changes.map((c) => [c.layer, c.applied]),
    [["swap", false]],
  );
  assert.match(changes[0].reason, /'sum' \(ReduceSum\) reads it: only Slice, StridedSlice, Gather and Split along axis 0/);
});

test("proposeBatchFixes: a StridedSlice that also slices axis 1 (the batch) is refused", () => {
  const { changes } = proposeBatchFixes(attention("strided-batch").build());
  const c = changes.find((x) => x.layer === "qkv_perm")!;
  assert.equal(c.applied, false);
  assert.match(c.reason, /\(StridedSlice\) slices axis 1, where the batch is/);
});
