/** Video in and out for the demos and notebooks: ffmpeg decoding/encoding and drawing on frames. */
export type { Frame, PixelFormat, Color } from "./frame";
export { createFrame } from "./frame";
export { probeVideo, readFrames } from "./decode";
export type { VideoInfo, ReadOptions, VideoFrame } from "./decode";
export { VideoWriter, VIDEO_EXTENSIONS, encodeImage, encodeStrip } from "./encode";
export type { WriterOptions, StripOptions } from "./encode";
export { fillRect, drawRect, drawLine, drawPoint, drawText, textSize } from "./draw";
