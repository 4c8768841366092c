/** A decoded video frame: 8-bit, three interleaved channels, rows top to bottom. */
import { InputError } from "../errors";

/** Byte order of the three channels (ffmpeg's pixel format names). */
export type PixelFormat = "bgr24" | "rgb24";

export interface Frame {
  width: number;
  height: number;
  format: PixelFormat;
  /** width × height × 3 bytes. */
  data: Uint8Array;
}

/** A new frame filled with one colour (r, g, b). */
export function createFrame(width: number, height: number, format: PixelFormat = "bgr24", fill: Color = [0, 0, 0]): Frame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new InputError(`createFrame: size ${width}×${height} must be positive integers`);
  const frame: Frame = { width, height, format, data: new Uint8Array(width * height * 3) };
  const [a, b, c] = channelOrder(format, fill);
  for (let i = 0; i < frame.data.length; i += 3) {
    frame.data[i] = a;
    frame.data[i + 1] = b;
    frame.data[i + 2] = c;
  }
  return frame;
}

/** Colour as (r, g, b), 0–255, whatever the frame's byte order. */
export type Color = readonly [number, number, number];

/** The colour's three bytes in the frame's order. */
export function channelOrder(format: PixelFormat, [r, g, b]: Color): [number, number, number] {
  return format === "bgr24" ? [b, g, r] : [r, g, b];
}

/** Checks that `frame.data` holds exactly width × height × 3 bytes. */
export function assertFrame(frame: Frame): void {
  if (frame.data.length !== frame.width * frame.height * 3)
    throw new InputError(
      `frame ${frame.width}×${frame.height} ${frame.format} needs ${frame.width * frame.height * 3} bytes, got ${frame.data.length}`,
    );
}
