/**
 * toPlanarBgr against closed forms: bilinear sampling reproduces a linear ramp exactly, so every
 * output value of a resized region of a ramp is known.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toPlanarBgr } from "../../kernel/cascade";
import { createFrame, Frame } from "../../kernel/video";

/** A frame whose blue, green and red bytes are the ramps 2x + 3y, x + 5y + 7, 200 − x − y. */
function ramp(w: number, h: number, format: "bgr24" | "rgb24" = "bgr24"): Frame {
  const f = createFrame(w, h, format);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [b, g, r] = [2 * x + 3 * y, x + 5 * y + 7, 200 - x - y];
      f.data.set(format === "bgr24" ? [b, g, r] : [r, g, b], (y * w + x) * 3);
    }
  return f;
}

const RAMPS = [(x: number, y: number) => 2 * x + 3 * y, (x: number, y: number) => x + 5 * y + 7, (x: number, y: number) => 200 - x - y];

test("toPlanarBgr at the frame's own size copies the pixels into B, G, R planes", () => {
  const f = ramp(5, 4);
  const out = toPlanarBgr(f, { x: 0, y: 0, w: 5, h: 4 }, 5, 4);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) assert.equal(out[c * 20 + y * 5 + x], RAMPS[c](x, y));
});

test("toPlanarBgr resizes a region with bilinear sampling at pixel centres", () => {
  const f = ramp(40, 30);
  const region = { x: 4, y: 6, w: 20, h: 12 };
  const out = toPlanarBgr(f, region, 10, 6);
  for (let c = 0; c < 3; c++)
    for (let j = 0; j < 6; j++)
      for (let i = 0; i < 10; i++) {
        const sx = 4 + (i + 0.5) * 2 - 0.5;
        const sy = 6 + (j + 0.5) * 2 - 0.5;
        assert.ok(Math.abs(out[c * 60 + j * 10 + i] - RAMPS[c](sx, sy)) < 1e-4, `c${c} (${i},${j})`);
      }
  // Upscaling a fractional region: samples between pixels.
  const up = toPlanarBgr(f, { x: 10.25, y: 3.5, w: 3, h: 2 }, 12, 8);
  for (let j = 0; j < 8; j++)
    for (let i = 0; i < 12; i++) {
      const sx = 10.25 + (i + 0.5) * 0.25 - 0.5;
      const sy = 3.5 + (j + 0.5) * 0.25 - 0.5;
      assert.ok(Math.abs(up[j * 12 + i] - RAMPS[0](sx, sy)) < 1e-4);
    }
});

test("toPlanarBgr clamps samples outside the frame to its edge and reads rgb24 frames too", () => {
  const f = ramp(8, 8);
  const out = toPlanarBgr(f, { x: -8, y: -8, w: 8, h: 8 }, 4, 4);
  // Every sample lies left of and above the frame: all take pixel (0, 0).
  for (let c = 0; c < 3; c++) for (let k = 0; k < 16; k++) assert.equal(out[c * 16 + k], RAMPS[c](0, 0));
  const region = { x: 1, y: 2, w: 5, h: 3 };
  assert.deepEqual(toPlanarBgr(ramp(8, 8, "rgb24"), region, 7, 4), toPlanarBgr(f, region, 7, 4));
});

test("toPlanarBgr writes at an offset into a batch buffer and rejects bad regions", () => {
  const f = ramp(6, 6);
  const batch = new Float32Array(2 * 3 * 4).fill(-1);
  toPlanarBgr(f, { x: 0, y: 0, w: 6, h: 6 }, 2, 2, batch, 12);
  assert.deepEqual([...batch.subarray(0, 12)], new Array(12).fill(-1));
  assert.ok(batch.subarray(12).every((v) => v >= 0));
  assert.throws(() => toPlanarBgr(f, { x: 0, y: 0, w: 0, h: 6 }, 2, 2), { code: "BAD_INPUT" });
  assert.throws(() => toPlanarBgr(f, { x: 0, y: 0, w: 6, h: 6 }, 2, 2, batch, 20), { code: "BAD_INPUT" });
});
