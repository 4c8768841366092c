/**
 * Decoding and encoding through ffmpeg. Synthetic frames written losslessly (APNG, PNG) must decode
 * to the same bytes; lossy outputs (H.264, GIF) to nearly the same colours; media/faces.mp4 has the
 * size, rate and frame count read off the file by hand (ffprobe, counting decoded frames).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  createFrame,
  encodeImage,
  encodeStrip,
  Frame,
  probeVideo,
  readFrames,
  VideoFrame,
  VideoWriter,
} from "../../kernel/video";
import { MEDIA } from "../helpers/models";

const VIDEO = path.join(MEDIA, "faces.mp4");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-video-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Frame k: background colour k, with a white 4×4 square whose position moves with k. */
function synthetic(k: number, w = 32, h = 24): Frame {
  const f = createFrame(w, h, "bgr24", [40 * k + 20, 200 - 30 * k, 90]);
  for (let y = 4; y < 8; y++) for (let x = 2 + 4 * k; x < 6 + 4 * k; x++) f.data.set([255, 255, 255], (y * w + x) * 3);
  return f;
}

async function collect(file: string, options = {}): Promise<VideoFrame[]> {
  const out: VideoFrame[] = [];
  for await (const f of readFrames(file, options)) out.push(f);
  return out;
}

async function writeAll(file: string, frames: Frame[], fps = 10): Promise<void> {
  const w = VideoWriter.open(file, { width: frames[0].width, height: frames[0].height, fps });
  for (const f of frames) await w.write(f);
  await w.close();
  assert.equal(w.frames, frames.length);
}

function meanAbs(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

test("probeVideo reads faces.mp4: 640×360, 25 fps, 244 frames, H.264", () => {
  const info = probeVideo(VIDEO);
  assert.deepEqual(
    { ...info, duration: Math.round(info.duration * 100) / 100 },
    {
      width: 640,
      height: 360,
      fps: 25,
      frames: 244,
      duration: 9.76,
      codec: "h264",
    },
  );
  assert.throws(() => probeVideo(path.join(tmp, "missing.mp4")), { code: "BAD_INPUT" });
});

test("readFrames: sizes, indices, start and maxFrames agree with a plain read", async () => {
  const first = await collect(VIDEO, { maxFrames: 4 });
  assert.deepEqual(
    first.map((f) => f.index),
    [0, 1, 2, 3],
  );
  for (const f of first) assert.equal(f.data.length, 640 * 360 * 3);
  const later = await collect(VIDEO, { start: 2, maxFrames: 2 });
  assert.deepEqual(
    later.map((f) => f.index),
    [2, 3],
  );
  assert.deepEqual(later[0].data, first[2].data);
  assert.deepEqual(later[1].data, first[3].data);
  assert.notDeepEqual(first[0].data, first[1].data);
  // Frame 3 straight from ffmpeg, without the streaming reader.
  const direct = execFileSync("ffmpeg", [
    "-v",
    "error",
    "-i",
    VIDEO,
    "-vf",
    "select=eq(n\\,3)",
    "-vsync",
    "passthrough",
    "-frames:v",
    "1",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "bgr24",
    "-",
  ]);
  assert.deepEqual(new Uint8Array(direct), first[3].data);
  const rgb = await collect(VIDEO, { maxFrames: 1, format: "rgb24" });
  assert.equal(rgb[0].format, "rgb24");
  assert.deepEqual([...rgb[0].data.subarray(0, 3)], [...first[0].data.subarray(0, 3)].reverse());
});

test("readFrames: breaking out early stops ffmpeg; bad inputs are typed errors", async () => {
  let n = 0;
  for await (const f of readFrames(VIDEO)) {
    n++;
    if (f.index === 1) break;
  }
  assert.equal(n, 2);
  assert.deepEqual(await collect(VIDEO, { maxFrames: 0 }), []);
  await assert.rejects(collect(path.join(tmp, "nope.mp4")), { code: "BAD_INPUT" });
  const text = path.join(tmp, "not-a-video.mp4");
  fs.writeFileSync(text, "hello");
  await assert.rejects(collect(text), { code: "BAD_INPUT" });
  await assert.rejects(collect(VIDEO, { start: -1 }), { code: "BAD_INPUT" });
});

test("VideoWriter → readFrames round trip: APNG is exact, H.264 and GIF are close", async () => {
  const frames = [0, 1, 2, 3].map((k) => synthetic(k));
  const apng = path.join(tmp, "a.apng");
  await writeAll(apng, frames);
  const back = await collect(apng);
  assert.equal(back.length, 4);
  back.forEach((f, k) => assert.deepEqual(f.data, frames[k].data, `frame ${k}`));

  for (const [name, tolerance] of [
    ["a.mp4", 6],
    ["a.gif", 12],
  ] as const) {
    const file = path.join(tmp, name);
    await writeAll(file, frames);
    const info = probeVideo(file);
    assert.equal(info.frames, 4, name);
    assert.deepEqual([info.width, info.height], [32, 24], name);
    const decoded = await collect(file);
    assert.equal(decoded.length, 4, name);
    decoded.forEach((f, k) =>
      assert.ok(meanAbs(f.data, frames[k].data) < tolerance, `${name} frame ${k}: ${meanAbs(f.data, frames[k].data)}`),
    );
  }
  assert.equal(probeVideo(path.join(tmp, "a.mp4")).fps, 10);
});

test("VideoWriter rejects what it cannot write", async () => {
  for (const name of ["x.avi", "x.webp", "x"])
    assert.throws(() => VideoWriter.open(path.join(tmp, name), { width: 8, height: 8, fps: 5 }), { code: "BAD_INPUT" });
  assert.throws(() => VideoWriter.open(path.join(tmp, "x.mp4"), { width: 8, height: 8, fps: 0 }), { code: "BAD_INPUT" });
  const w = VideoWriter.open(path.join(tmp, "x.mp4"), { width: 8, height: 8, fps: 5 });
  await assert.rejects(w.write(createFrame(4, 4)), { code: "BAD_INPUT" });
  await assert.rejects(w.write(createFrame(8, 8, "rgb24")), { code: "BAD_INPUT" });
  await assert.rejects(w.close(), { code: "BAD_INPUT" }); // no frames
  const bad = VideoWriter.open(path.join(tmp, "no-such-dir", "x.mp4"), { width: 8, height: 8, fps: 5 });
  await bad.write(createFrame(8, 8)).catch(() => undefined);
  await assert.rejects(bad.close(), { code: "BAD_INPUT" });
});

test("encodeImage writes a PNG that decodes to the same pixels", async () => {
  const frame = synthetic(2);
  const png = encodeImage(frame);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const file = path.join(tmp, "one.png");
  fs.writeFileSync(file, png);
  const [back] = await collect(file);
  assert.deepEqual(back.data, frame.data);
  const jpeg = encodeImage(frame, "jpeg");
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
});

test("encodeStrip tiles frames in rows with a white margin", async () => {
  const frames = [0, 1, 2].map((k) =>
    createFrame(
      64,
      32,
      "bgr24",
      [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
      ][k] as [number, number, number],
    ),
  );
  const file = path.join(tmp, "strip.png");
  fs.writeFileSync(file, encodeStrip(frames, { columns: 2, tileWidth: 32 }));
  const [strip] = await collect(file);
  // 2 columns of 32 px, 2 rows of 16 px, margins 4 and padding 4.
  assert.deepEqual([strip.width, strip.height], [4 + 32 + 4 + 32 + 4, 4 + 16 + 4 + 16 + 4]);
  const at = (x: number, y: number) => [...strip.data.subarray((y * strip.width + x) * 3, (y * strip.width + x) * 3 + 3)];
  assert.deepEqual(at(1, 1), [255, 255, 255]);
  assert.deepEqual(at(20, 12), [0, 0, 255]); // red tile, bgr bytes
  assert.deepEqual(at(56, 12), [0, 255, 0]);
  assert.deepEqual(at(20, 32), [255, 0, 0]);
  const jpeg = encodeStrip(frames, { columns: 3, tileWidth: 32, type: "jpeg" });
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
  fs.writeFileSync(path.join(tmp, "strip.jpg"), jpeg);
  assert.deepEqual(
    [probeVideo(path.join(tmp, "strip.jpg")).width, probeVideo(path.join(tmp, "strip.jpg")).height],
    [4 + 3 * 36, 4 + 20],
  );
  assert.throws(() => encodeStrip([]), { code: "BAD_INPUT" });
  assert.throws(() => encodeStrip([frames[0], createFrame(8, 8)]), { code: "BAD_INPUT" });
});
