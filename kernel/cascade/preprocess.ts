/**
 * Network inputs from frames: a region, resized with bilinear sampling, as NCHW BGR floats 0–255
 * (what the Open Model Zoo IR expects; none of the four models wants mean or scale from the caller).
 */
import { InputError } from "../errors";
import { Frame } from "../video/frame";

/** A region in pixels of a frame; it may extend past the frame's edges. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Writes `region` of `frame` resized to `width`×`height` into `out` at `offset` as three planes
 * B, G, R. Output pixel (i, j) samples the source at the region's corresponding pixel centre
 * (x + (i + 0.5)·w/width − 0.5); samples beyond the frame take the nearest edge pixel.
 */
export function toPlanarBgr(
  frame: Frame,
  region: Box,
  width: number,
  height: number,
  out: Float32Array = new Float32Array(3 * width * height),
  offset = 0,
): Float32Array {
  if (!(region.w > 0 && region.h > 0)) throw new InputError(`toPlanarBgr: empty region ${JSON.stringify(region)}`);
  if (offset + 3 * width * height > out.length)
    throw new InputError(`toPlanarBgr: output holds ${out.length} values, needs ${offset + 3 * width * height}`);
  const { width: fw, height: fh, data } = frame;
  // Channel order in the frame's bytes for planes B, G, R.
  const ch = frame.format === "bgr24" ? [0, 1, 2] : [2, 1, 0];
  const plane = width * height;
  const sx = region.w / width;
  const sy = region.h / height;
  for (let j = 0; j < height; j++) {
    const y = Math.min(fh - 1, Math.max(0, region.y + (j + 0.5) * sy - 0.5));
    const y0 = Math.floor(y);
    const y1 = Math.min(fh - 1, y0 + 1);
    const fy = y - y0;
    for (let i = 0; i < width; i++) {
      const x = Math.min(fw - 1, Math.max(0, region.x + (i + 0.5) * sx - 0.5));
      const x0 = Math.floor(x);
      const x1 = Math.min(fw - 1, x0 + 1);
      const fx = x - x0;
      const a = (y0 * fw + x0) * 3;
      const b = (y0 * fw + x1) * 3;
      const c = (y1 * fw + x0) * 3;
      const d = (y1 * fw + x1) * 3;
      const o = offset + j * width + i;
      for (let p = 0; p < 3; p++) {
        const k = ch[p];
        const top = data[a + k] + (data[b + k] - data[a + k]) * fx;
        const bottom = data[c + k] + (data[d + k] - data[c + k]) * fx;
        out[o + p * plane] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}
