/** Draws a frame's cascade results onto the frame. */
import { Color, Frame } from "../video/frame";
import { drawLine, drawPoint, drawRect, drawText } from "../video/draw";
import type { FaceResult, FrameResult } from "./pipeline";

export const ANNOTATION_COLORS = {
  face: [0, 200, 255] as Color,
  landmark: [255, 220, 0] as Color,
  open: [0, 220, 0] as Color,
  closed: [255, 40, 40] as Color,
  axisX: [255, 0, 0] as Color,
  axisY: [0, 255, 0] as Color,
  axisZ: [0, 80, 255] as Color,
  text: [255, 255, 255] as Color,
  label: [0, 0, 0] as Color,
};

/**
 * The head's axes rotated by the head pose (R = Rz(roll)·Ry(yaw)·Rx(pitch), degrees) and projected
 * orthographically to the image (x right, y down), each `length` pixels long: x towards the image's
 * right, y up, z out of the face towards the camera. Returns the three 2-D offsets from the face centre.
 */
export function headAxes(yaw: number, pitch: number, roll: number, length: number): [number, number][] {
  const rad = Math.PI / 180;
  const [cy, sy, cp, sp, cr, sr] = [
    Math.cos(yaw * rad),
    Math.sin(yaw * rad),
    Math.cos(pitch * rad),
    Math.sin(pitch * rad),
    Math.cos(roll * rad),
    Math.sin(roll * rad),
  ];
  const rx = [
    [1, 0, 0],
    [0, cp, -sp],
    [0, sp, cp],
  ];
  const ry = [
    [cy, 0, -sy],
    [0, 1, 0],
    [sy, 0, cy],
  ];
  const rz = [
    [cr, -sr, 0],
    [sr, cr, 0],
    [0, 0, 1],
  ];
  const mul = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
  const r = mul(rz, mul(ry, rx));
  const axes = [
    [length, 0, 0],
    [0, -length, 0],
    [0, 0, -length],
  ];
  return axes.map((v): [number, number] => [
    r[0][0] * v[0] + r[0][1] * v[1] + r[0][2] * v[2],
    r[1][0] * v[0] + r[1][1] * v[1] + r[1][2] * v[2],
  ]);
}

function drawFace(frame: Frame, face: FaceResult, k: number): void {
  const { x, y, w, h } = face.box;
  drawRect(frame, x, y, w, h, ANNOTATION_COLORS.face, 2);
  for (const eye of face.eyes) {
    const b = eye.box;
    drawRect(frame, b.x, b.y, b.w, b.h, eye.open ? ANNOTATION_COLORS.open : ANNOTATION_COLORS.closed, 1);
  }
  for (const [px, py] of face.landmarks) drawPoint(frame, px, py, 2, ANNOTATION_COLORS.landmark);
  const cx = x + w / 2;
  const cy = y + h / 2;
  const { yaw, pitch, roll } = face.headPose;
  const [ax, ay, az] = headAxes(yaw, pitch, roll, 0.5 * Math.min(w, h));
  drawLine(frame, cx, cy, cx + ax[0], cy + ax[1], ANNOTATION_COLORS.axisX, 2);
  drawLine(frame, cx, cy, cx + ay[0], cy + ay[1], ANNOTATION_COLORS.axisY, 2);
  drawLine(frame, cx, cy, cx + az[0], cy + az[1], ANNOTATION_COLORS.axisZ, 2);
  const eyes = face.eyes.map((e) => (e.open ? "O" : "C")).join("");
  drawText(
    frame,
    x + 2,
    Math.max(1, y - 8),
    `${k} Y${yaw.toFixed(0)} P${pitch.toFixed(0)} R${roll.toFixed(0)} ${eyes}`,
    ANNOTATION_COLORS.text,
    {
      background: ANNOTATION_COLORS.label,
    },
  );
}

/**
 * Draws every face of `result`: box, eye crops (green open, red closed), the five landmarks, the
 * head-pose axes (x red, y green, z blue) and a label "k Y<yaw> P<pitch> R<roll> <eyes O/C>"; plus
 * the frame number and face count in the top-left corner.
 */
export function annotate(frame: Frame, result: FrameResult): void {
  result.faces.forEach((f, k) => drawFace(frame, f, k));
  drawText(frame, 4, 4, `FRAME ${result.index} FACES ${result.faces.length}`, ANNOTATION_COLORS.text, {
    scale: 2,
    background: ANNOTATION_COLORS.label,
  });
}
