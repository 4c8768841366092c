/** The per-frame chart: axis bound and the geometry of its lines, from hand-made frame results. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { axisMax, frameTimesSvg, FrameResult, StrategyRun } from "../../kernel/cascade";

function frame(index: number, faces: number, totals: [number, number, number]): FrameResult {
  const e = new Float32Array(0);
  const runs = (["dynamic", "batch1", "padded"] as const).map((strategy, k): StrategyRun => ({
    strategy,
    ms: { landmarks: totals[k], headPose: 0, eyes: 0, total: totals[k] },
    requests: 0,
    samples: 0,
    outputs: { landmarks: e, yaw: e, pitch: e, roll: e, eyes: e },
  }));
  return {
    index,
    faces: new Array(faces).fill(null) as FrameResult["faces"],
    detectMs: 0,
    cropMs: 0,
    outsideMs: { resize: 0, crops: 0, parse: 0, draw: 0, total: 0 },
    runs,
  };
}

test("axisMax rounds up to 1, 2 or 5 times a power of ten", () => {
  assert.deepEqual([0, 0.3, 1, 7, 12, 100, 101, 480].map(axisMax), [1, 0.5, 1, 10, 20, 100, 200, 500]);
});

test("frameTimesSvg draws one line per strategy with a point per frame, scaled to the axis", () => {
  const svg = frameTimesSvg([frame(10, 4, [20, 30, 40]), frame(11, 3, [10, 25, 40])], 460, 200);
  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) =>
    m[1].split(" ").map((p) => p.split(",").map(Number)),
  );
  assert.equal(lines.length, 3);
  for (const l of lines) assert.equal(l.length, 2);
  // Plot: x from 48 to 448, y from 28 (50 ms, the axis bound) to 164 (0 ms); points at the middle of each frame's slot.
  assert.deepEqual(
    lines[0],
    [
      [148, 164 - (20 / 50) * 136],
      [348, 164 - (10 / 50) * 136],
    ].map((p) => p.map((v) => Number(v.toFixed(1)))),
  );
  assert.deepEqual(lines[2][0], [148, 55.2]);
  assert.match(svg, /<title>frame 10: 4 faces<\/title>/);
  assert.match(svg, /dynamic batch: setBatch\(faces\)/);
  assert.match(frameTimesSvg([]), /^<svg[^]*<\/svg>$/);
});
