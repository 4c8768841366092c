/** An SVG chart of the per-frame cost of each strategy, for notebooks (no plotting library needed). */
import { FrameResult, STRATEGY_LABELS, Strategy } from "./pipeline";

const COLORS: Record<Strategy, string> = { dynamic: "#1b9e77", batch1: "#d95f02", padded: "#7570b3" };

/** Round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function axisMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max)!;
}

/**
 * Milliseconds of the secondary networks per frame, one line per strategy, with the face count of
 * each frame as grey bars along the bottom. `width`×`height` in pixels.
 */
export function frameTimesSvg(frames: FrameResult[], width = 720, height = 300): string {
  const left = 48;
  const right = 12;
  const top = 28;
  const bottom = 36;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const strategies = frames[0]?.runs.map((r) => r.strategy) ?? [];
  const yMax = axisMax(Math.max(0, ...frames.flatMap((f) => f.runs.map((r) => r.ms.total))));
  const maxFaces = Math.max(1, ...frames.map((f) => f.faces.length));
  const step = plotW / Math.max(1, frames.length);
  const x = (k: number) => left + (k + 0.5) * step;
  const y = (ms: number) => top + plotH - (ms / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(`<line x1="${left - 4}" x2="${left}" y1="${y(v)}" y2="${y(v)}" stroke="#999"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(2)}</text>`);
  }
  parts.push(
    `<text x="12" y="${top + plotH / 2}" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle">ms per frame</text>`,
  );
  frames.forEach((f, k) => {
    const h = (f.faces.length / maxFaces) * plotH * 0.25;
    parts.push(
      `<rect x="${x(k) - step * 0.35}" y="${top + plotH - h}" width="${step * 0.7}" height="${h}" fill="#ddd"><title>frame ${f.index}: ${f.faces.length} faces</title></rect>`,
    );
  });
  const labelEvery = Math.max(1, Math.ceil(frames.length / 10));
  frames.forEach((f, k) => {
    if (k % labelEvery === 0) parts.push(`<text x="${x(k)}" y="${top + plotH + 14}" text-anchor="middle">${f.index}</text>`);
  });
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">frame (grey bars: faces, up to ${maxFaces})</text>`,
  );
  strategies.forEach((s, j) => {
    const points = frames.map((f, k) => `${x(k).toFixed(1)},${y(f.runs[j].ms.total).toFixed(1)}`).join(" ");
    parts.push(
      `<polyline fill="none" stroke="${COLORS[s]}" stroke-width="2" points="${points}"><title>${STRATEGY_LABELS[s]}</title></polyline>`,
    );
    parts.push(`<rect x="${left + 8 + j * 220}" y="8" width="12" height="12" fill="${COLORS[s]}"/>`);
    parts.push(`<text x="${left + 24 + j * 220}" y="18">${STRATEGY_LABELS[s]}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
