/**
 * Drawing on frames in place: rectangles, lines, discs and a 3×5 pixel font. Everything clips
 * to the frame, so callers may pass boxes that cross its edges.
 */
import { channelOrder, Color, Frame } from "./frame";

/** Fills the whole pixels x0..x1−1, y0..y1−1, clipped to the frame, with the pixel's three bytes `px`. */
function fillPixels(frame: Frame, x0: number, y0: number, x1: number, y1: number, px: readonly number[]): void {
  const { width, data } = frame;
  const a = px[0];
  const b = px[1];
  const c = px[2];
  const left = Math.max(0, x0);
  const right = Math.min(width, x1);
  const bottom = Math.min(frame.height, y1);
  for (let y = Math.max(0, y0); y < bottom; y++)
    for (let i = (y * width + left) * 3, end = (y * width + right) * 3; i < end; i += 3) {
      data[i] = a;
      data[i + 1] = b;
      data[i + 2] = c;
    }
}

/** Fills the pixels x..x+w-1, y..y+h-1 (rounded to whole pixels). */
export function fillRect(frame: Frame, x: number, y: number, w: number, h: number, color: Color): void {
  fillPixels(frame, Math.round(x), Math.round(y), Math.round(x + w), Math.round(y + h), channelOrder(frame.format, color));
}

/** Outline of the box x, y, w, h, `thickness` pixels wide, drawn inside the box. */
export function drawRect(frame: Frame, x: number, y: number, w: number, h: number, color: Color, thickness = 1): void {
  const t = Math.max(1, Math.min(Math.round(thickness), Math.ceil(w / 2), Math.ceil(h / 2)));
  fillRect(frame, x, y, w, t, color);
  fillRect(frame, x, y + h - t, w, t, color);
  fillRect(frame, x, y + t, t, h - 2 * t, color);
  fillRect(frame, x + w - t, y + t, t, h - 2 * t, color);
}

/** Line between two points (Bresenham); a thickness above 1 stamps a square brush on every point. */
export function drawLine(frame: Frame, x0: number, y0: number, x1: number, y1: number, color: Color, thickness = 1): void {
  const px = channelOrder(frame.format, color);
  const t = Math.max(1, Math.round(thickness));
  const lo = -Math.floor((t - 1) / 2);
  let x = Math.round(x0);
  let y = Math.round(y0);
  const xe = Math.round(x1);
  const ye = Math.round(y1);
  const dx = Math.abs(xe - x);
  const dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1;
  const sy = y < ye ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    fillPixels(frame, x + lo, y + lo, x + lo + t, y + lo + t, px);
    if (x === xe && y === ye) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

/** Filled disc: every pixel whose distance to the (rounded) centre is at most `radius`. */
export function drawPoint(frame: Frame, x: number, y: number, radius: number, color: Color): void {
  const px = channelOrder(frame.format, color);
  const cx = Math.round(x);
  const cy = Math.round(y);
  const r = Math.max(0, Math.floor(radius));
  for (let j = -r; j <= r; j++) {
    // Row j of the disc is the run |i| ≤ m, m the largest with m² + j² ≤ radius² (none when m < 0).
    let m = r;
    while (m >= 0 && m * m + j * j > radius * radius) m--;
    fillPixels(frame, cx - m, cy + j, cx + m + 1, cy + j + 1, px);
  }
}

/**
 * 3×5 glyphs, rows top to bottom, '1' = ink. Lower-case text is drawn in capitals. Four glyphs a
 * line, as written: one a line would make the table 46 lines long.
 */
// prettier-ignore
const FONT: Record<string, string> = {
  "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
  "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001010010",
  "8": "111101111101111", "9": "111101111001111",
  A: "010101111101101", B: "110101110101110", C: "011100100100011", D: "110101101101110",
  E: "111100110100111", F: "111100110100100", G: "011100101101011", H: "101101111101101",
  I: "111010010010111", J: "001001001101010", K: "101101110101101", L: "100100100100111",
  M: "101111111101101", N: "110101101101101", O: "010101101101010", P: "110101110100100",
  Q: "010101101110011", R: "110101110101101", S: "011100010001110", T: "111010010010010",
  U: "101101101101111", V: "101101101101010", W: "101101111111101", X: "101101010101101",
  Y: "101101010010010", Z: "111001010100111",
  " ": "000000000000000", ".": "000000000000010", ",": "000000000010100", ":": "000010000010000",
  "-": "000000111000000", "+": "000010111010000", "/": "001001010100100", "%": "101001010100101",
  "=": "000111000111000", "(": "010100100100010", ")": "010001001001010", "?": "111001010000010",
};

/** Width and height in pixels of `text` drawn at `scale` (glyphs 3×5 plus one column of spacing). */
export function textSize(text: string, scale = 1): { width: number; height: number } {
  const s = Math.max(1, Math.round(scale));
  if (text.length === 0) return { width: 0, height: 0 };
  return { width: (text.length * 4 - 1) * s, height: 5 * s };
}

/**
 * Draws `text` with its top-left corner at x, y, each font pixel a scale×scale square. With
 * `background`, the text's box plus a one-pixel margin is filled first so it stays readable on video.
 * Characters outside the font are drawn as '?'.
 */
export function drawText(
  frame: Frame,
  x: number,
  y: number,
  text: string,
  color: Color,
  options: { scale?: number; background?: Color } = {},
): void {
  const s = Math.max(1, Math.round(options.scale ?? 1));
  const x0 = Math.round(x);
  const y0 = Math.round(y);
  if (options.background) {
    const { width, height } = textSize(text, s);
    fillRect(frame, x0 - s, y0 - s, width + 2 * s, height + 2 * s, options.background);
  }
  const px = channelOrder(frame.format, color);
  [...text.toUpperCase()].forEach((ch, k) => {
    const glyph = FONT[ch] ?? FONT["?"];
    for (let row = 0; row < 5; row++)
      for (let col = 0; col < 3; col++) {
        const x = x0 + (k * 4 + col) * s;
        const y = y0 + row * s;
        if (glyph[row * 3 + col] === "1") fillPixels(frame, x, y, x + s, y + s, px);
      }
  });
}
