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

const RAMPS = [
  (x: number, y: number) => 2 * x + 3 * y,
  (x: number, y: number) => x + 5 * y + 7,
  (x: number, y: number) => 200 - x - y,
];

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
  // The native kernel never reads past a frame whose bytes do not match its size, nor takes NaN boxes.
  assert.throws(() => toPlanarBgr({ ...f, data: f.data.subarray(0, 10) }, { x: 0, y: 0, w: 6, h: 6 }, 2, 2), {
    code: "BAD_INPUT",
    message: /fewer than width·height·3 bytes/,
  });
  assert.throws(() => toPlanarBgr(f, { x: NaN, y: 0, w: 6, h: 6 }, 2, 2), { code: "BAD_INPUT", message: /x must be finite/ });
  assert.throws(() => toPlanarBgr(f, { x: 0, y: 0, w: 6, h: 6 }, 2.5, 2), {
    code: "BAD_INPUT",
    message: /width must be an integer/,
  });
});

/** toPlanarBgr as the definition reads: each output value sampled on its own, in doubles. */
function reference(
  frame: Frame,
  region: { x: number; y: number; w: number; h: number },
  width: number,
  height: number,
): Float64Array {
  const { width: fw, height: fh, data } = frame;
  const ch = frame.format === "bgr24" ? [0, 1, 2] : [2, 1, 0];
  const out = new Float64Array(3 * width * height);
  const at = (x: number, y: number, k: number) => data[(y * fw + x) * 3 + k];
  for (let j = 0; j < height; j++)
    for (let i = 0; i < width; i++) {
      const x = Math.min(fw - 1, Math.max(0, region.x + ((i + 0.5) * region.w) / width - 0.5));
      const y = Math.min(fh - 1, Math.max(0, region.y + ((j + 0.5) * region.h) / height - 0.5));
      const [x0, y0] = [Math.floor(x), Math.floor(y)];
      const [x1, y1] = [Math.min(fw - 1, x0 + 1), Math.min(fh - 1, y0 + 1)];
      for (let p = 0; p < 3; p++) {
        const k = ch[p];
        const top = at(x0, y0, k) + (at(x1, y0, k) - at(x0, y0, k)) * (x - x0);
        const bottom = at(x0, y1, k) + (at(x1, y1, k) - at(x0, y1, k)) * (x - x0);
        out[p * width * height + j * width + i] = top + (bottom - top) * (y - y0);
      }
    }
  return out;
}

test("toPlanarBgr equals per-pixel bilinear sampling on random frames and regions, past the edges too", () => {
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const whole = (lo: number, hi: number) => Math.floor(between(lo, hi + 1));
  for (let trial = 0; trial < 60; trial++) {
    const frame = createFrame(whole(1, 90), whole(1, 70), trial % 2 ? "rgb24" : "bgr24");
    for (let k = 0; k < frame.data.length; k++) frame.data[k] = whole(0, 255);
    // Whole-pixel boxes now and then, fractional ones otherwise; either may cross any edge.
    const round = trial % 3 === 0 ? Math.round : (v: number) => v;
    const region = {
      x: round(between(-0.5, 1.2) * frame.width),
      y: round(between(-0.5, 1.2) * frame.height),
      w: Math.max(0.25, round(between(0, 1.5) * frame.width)),
      h: Math.max(0.25, round(between(0, 1.5) * frame.height)),
    };
    const [width, height] = [whole(1, 70), whole(1, 50)];
    const offset = whole(0, 20);
    const out = toPlanarBgr(frame, region, width, height, new Float32Array(offset + 3 * width * height + 5).fill(-1), offset);
    const expected = reference(frame, region, width, height);
    for (let k = 0; k < expected.length; k++) {
      const diff = Math.abs(out[offset + k] - expected[k]);
      assert.ok(
        diff <= 1e-4,
        `trial ${trial}, value ${k} of ${JSON.stringify({ region, width, height, frame: [frame.width, frame.height] })}: off by ${diff}`,
      );
    }
    assert.ok(
      out.subarray(0, offset).every((v) => v === -1) && out.subarray(offset + expected.length).every((v) => v === -1),
      "writes outside its part",
    );
  }
  // The detector's input from a whole frame, and the same scratch reused for a crop right after.
  const frame = createFrame(640, 360);
  for (let k = 0; k < frame.data.length; k++) frame.data[k] = (k * 2654435761) >>> 24;
  for (const [region, width, height] of [
    [{ x: 0, y: 0, w: 640, h: 360 }, 672, 384],
    [{ x: 600.5, y: -7.25, w: 69, h: 92 }, 48, 48],
  ] as const) {
    const out = toPlanarBgr(frame, region, width, height);
    const expected = reference(frame, region, width, height);
    let worst = 0;
    for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(out[k] - expected[k]));
    assert.ok(worst <= 1e-4, `${width}×${height}: off by ${worst}`);
  }
});
