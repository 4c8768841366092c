/** Faces from face-detection-adas-0001's DetectionOutput. */
import { Box } from "./preprocess";

export interface Face extends Box {
  conf: number;
}

/**
 * Rows [image_id, label, conf, x_min, y_min, x_max, y_max] of a DetectionOutput [1,1,K,7] with
 * conf ≥ `threshold`, scaled to a width×height image and clipped to it. Rows stop at the first
 * image_id −1 (the end marker); boxes thinner than 2 px are dropped.
 */
export function facesFrom(det: Float32Array, width: number, height: number, threshold: number): Face[] {
  const faces: Face[] = [];
  for (let i = 0; i + 7 <= det.length; i += 7) {
    if (det[i] < 0) break;
    if (det[i + 2] < threshold) continue;
    const x0 = Math.max(0, Math.round(det[i + 3] * width));
    const y0 = Math.max(0, Math.round(det[i + 4] * height));
    const x1 = Math.min(width, Math.round(det[i + 5] * width));
    const y1 = Math.min(height, Math.round(det[i + 6] * height));
    if (x1 - x0 >= 2 && y1 - y0 >= 2) faces.push({ conf: det[i + 2], x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }
  return faces;
}
