/** Drawing primitives against pixel sets written out by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFrame, drawLine, drawPoint, drawRect, drawText, fillRect, Frame, textSize } from "../../kernel/video";

const RED = [255, 0, 0] as const;

/** Coordinates "x,y" of every pixel that is not black. */
function inked(frame: Frame): Set<string> {
  const out = new Set<string>();
  for (let y = 0; y < frame.height; y++)
    for (let x = 0; x < frame.width; x++) {
      const i = (y * frame.width + x) * 3;
      if (frame.data[i] || frame.data[i + 1] || frame.data[i + 2]) out.add(`${x},${y}`);
    }
  return out;
}

function pixel(frame: Frame, x: number, y: number): number[] {
  const i = (y * frame.width + x) * 3;
  return [...frame.data.subarray(i, i + 3)];
}

test("createFrame fills with the colour in the frame's byte order", () => {
  const bgr = createFrame(3, 2, "bgr24", [10, 20, 30]);
  const rgb = createFrame(3, 2, "rgb24", [10, 20, 30]);
  assert.equal(bgr.data.length, 18);
  assert.deepEqual(pixel(bgr, 2, 1), [30, 20, 10]);
  assert.deepEqual(pixel(rgb, 2, 1), [10, 20, 30]);
  assert.throws(() => createFrame(0, 2), { code: "BAD_INPUT" });
});

test("fillRect covers exactly its pixels and clips at the edges", () => {
  const f = createFrame(6, 5);
  fillRect(f, 1, 2, 3, 2, RED);
  assert.deepEqual([...inked(f)].sort(), ["1,2", "1,3", "2,2", "2,3", "3,2", "3,3"]);
  assert.deepEqual(pixel(f, 1, 2), [0, 0, 255]); // bgr24: red is the third byte
  const g = createFrame(4, 4);
  fillRect(g, -2, -2, 3, 3, RED);
  assert.deepEqual([...inked(g)], ["0,0"]);
});

test("drawRect: a one-pixel outline is the box's perimeter; thick outlines grow inwards", () => {
  const f = createFrame(12, 10);
  drawRect(f, 2, 1, 5, 4, RED);
  const expected = new Set<string>();
  for (let x = 2; x <= 6; x++) expected.add(`${x},1`).add(`${x},4`);
  for (let y = 1; y <= 4; y++) expected.add(`2,${y}`).add(`6,${y}`);
  assert.deepEqual(inked(f), expected);
  const g = createFrame(12, 10);
  drawRect(g, 0, 0, 6, 6, RED, 2);
  assert.equal(inked(g).size, 36 - 4); // a 6×6 box minus its 2×2 hole
  assert.ok(!inked(g).has("2,2") && inked(g).has("1,1"));
});

test("drawLine: horizontal, diagonal and steep lines hit one pixel per step, endpoints included", () => {
  const h = createFrame(10, 10);
  drawLine(h, 1, 5, 8, 5, RED);
  assert.deepEqual(inked(h), new Set([1, 2, 3, 4, 5, 6, 7, 8].map((x) => `${x},5`)));
  const d = createFrame(10, 10);
  drawLine(d, 5, 5, 0, 0, RED);
  assert.deepEqual(inked(d), new Set([0, 1, 2, 3, 4, 5].map((i) => `${i},${i}`)));
  const s = createFrame(10, 10);
  drawLine(s, 2, 0, 3, 9, RED);
  const rows = [...inked(s)].map((p) => Number(p.split(",")[1])).sort((a, b) => a - b);
  assert.deepEqual(rows, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(inked(s).has("2,0") && inked(s).has("3,9"));
  const t = createFrame(10, 10);
  drawLine(t, 2, 5, 6, 5, RED, 3);
  // A 3×3 brush on x = 2..6: columns 1..7, rows 4..6.
  assert.equal(inked(t).size, 7 * 3);
  assert.ok(inked(t).has("1,4") && inked(t).has("7,6") && !inked(t).has("8,5"));
  const clipped = createFrame(4, 4);
  drawLine(clipped, -5, 1, 10, 1, RED);
  assert.equal(inked(clipped).size, 4);
});

test("drawPoint fills the disc x² + y² ≤ r²", () => {
  const f = createFrame(9, 9);
  drawPoint(f, 4, 4, 2, RED);
  // r = 2: the centre, 4 at distance 1, 4 at √2, 4 at distance 2.
  assert.equal(inked(f).size, 13);
  assert.ok(inked(f).has("6,4") && inked(f).has("5,5") && !inked(f).has("6,5"));
});

test("drawText renders the 3×5 glyphs at a scale and measures them", () => {
  assert.deepEqual(textSize("AB", 2), { width: 14, height: 10 });
  assert.deepEqual(textSize(""), { width: 0, height: 0 });
  const f = createFrame(8, 6);
  drawText(f, 0, 0, "1", RED);
  // The glyph for 1: .#. / ##. / .#. / .#. / ###
  assert.deepEqual(inked(f), new Set(["1,0", "0,1", "1,1", "1,2", "1,3", "0,4", "1,4", "2,4"]));
  const big = createFrame(20, 12);
  drawText(big, 1, 1, "-", RED, { scale: 2 });
  // '-' is the middle row: 3 font pixels → a 6×2 block at y = 1 + 2·2.
  assert.deepEqual(inked(big), new Set(["1,5", "2,5", "3,5", "4,5", "5,5", "6,5", "1,6", "2,6", "3,6", "4,6", "5,6", "6,6"]));
  const bg = createFrame(20, 12);
  drawText(bg, 2, 2, "a", [255, 255, 255], { background: [0, 0, 200] });
  // Lower case is drawn as capitals; the background fills the text box plus one pixel around it.
  assert.equal(inked(bg).size, 5 * 7);
  assert.deepEqual(pixel(bg, 1, 1), [200, 0, 0]);
  assert.deepEqual(pixel(bg, 3, 2), [255, 255, 255]); // top of 'A'
});
