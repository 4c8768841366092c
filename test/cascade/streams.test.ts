/**
 * Several camera streams: cropFaces records the face counts the bundled video has by eye,
 * replayStreams sends every face of every stream's frames exactly once to each network (offsets
 * as streamArrivals times them), and `dynbatch demo --streams 2 --frames 2` runs both ways,
 * its batchers forming batches that hold every face. No timing is asserted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { cropFaces, FaceCascade, FaceCrops, IECore, InputError, readFrames, replayStreams } from "../../kernel";
import { parseDemoArgs } from "../../kernel/cli/video";
import { ROOT } from "../helpers/models";

const VIDEO = path.join(ROOT, "media", "faces.mp4");

test("cropFaces: one 48- and one 60-pixel crop per face, counts recorded as in the video (3, 3, 4 by eye)", async () => {
  const cascade = await FaceCascade.load(new IECore(), { strategies: ["dynamic"] });
  const crops: FaceCrops[] = [];
  for (const start of [72, 73, 0])
    for await (const f of readFrames(VIDEO, { start, maxFrames: 1 })) crops.push(await cropFaces(cascade, f));
  assert.deepEqual(cascade.faceCounts, [3, 3, 4]);
  assert.deepEqual(
    crops.map((c) => [c.landmarks.map((x) => x.length), c.headPose.map((x) => x.length)]),
    [3, 3, 4].map((n) => [Array(n).fill(3 * 48 * 48), Array(n).fill(3 * 60 * 60)]),
  );
});

test("replayStreams: every face of every stream's frame goes once to each network; stream k starts at k·len/K", async () => {
  // Frame i of the recording has i + 1 faces, each crop tagged with its frame and face.
  const tag = (frame: number, face: number) => Float32Array.of(frame, face);
  const recording: FaceCrops[] = [0, 1, 2].map((i) => ({
    landmarks: Array.from({ length: i + 1 }, (_, j) => tag(i, j)),
    headPose: Array.from({ length: i + 1 }, (_, j) => tag(i, j)),
  }));
  const seen: Record<string, string[]> = { landmarks: [], headPose: [] };
  const run = {
    landmarks: async (s: Float32Array) => void seen.landmarks.push(`${s[0]}.${s[1]}`),
    headPose: async (s: Float32Array) => void seen.headPose.push(`${s[0]}.${s[1]}`),
  };
  const r = await replayStreams(recording, { streams: 2, fps: 500, steps: 2, run });
  // Stream 0 plays frames 0, 1; stream 1 starts at floor(3/2) = 1: frames 1, 2. Arrivals 0, 1, 2, 3 ms → frames 0, 1, 1, 2.
  const expected = ["0.0", "1.0", "1.1", "1.0", "1.1", "2.0", "2.1", "2.2"];
  assert.deepEqual(seen.landmarks, expected);
  assert.deepEqual(seen.headPose, expected);
  assert.equal(r.frames, 4);
  assert.equal(r.faces, 8);
  assert.equal(r.samples, 16);
  assert.ok(r.faceLatencyMs.p50 <= r.faceLatencyMs.p99);
  await assert.rejects(replayStreams([], { streams: 1, fps: 1, steps: 1, run }), InputError);
  await assert.rejects(replayStreams(recording, { streams: 0, fps: 1, steps: 1, run }), InputError);
});

test("dynbatch demo --streams 2 --frames 2: both ways run, batches hold every face; flags are checked", () => {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, "dist", "kernel", "cli", "main.js"), "demo", "--streams", "2", "--frames", "2", "--batcher-delay", "300"],
    { encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /faces\.mp4 at 2 offsets, 2 frames each at 25 fps; faces per frame recorded: mean 4\.00, max 4/);
  assert.match(r.stdout, /one batcher per network, maxDelay 300 µs +32 +[\d.]+ +[\d.]+ \/ [\d.]+ +[\d.]+ \/ [\d.]+\n/);
  assert.match(r.stdout, /one batch-1 request per face \(2 per network\) +32 /);
  // Two streams × two frames × four faces = 16 samples per network (32 in all), in whatever batches formed.
  const [, lm, hp] = /landmarks ((?:\d+×\d+ ?)+); head pose ((?:\d+×\d+ ?)+)/.exec(r.stdout) ?? [];
  const samples = (h: string) =>
    h
      .trim()
      .split(" ")
      .reduce((a, e) => a + Number(e.split("×")[0]) * Number(e.split("×")[1]), 0);
  assert.equal(samples(lm), 16, "each batcher ran every face once");
  assert.equal(samples(hp), 16);
  assert.match(
    r.stdout,
    /streamArrivals\(cascade\.faceCounts, \{ streams: 2, fps: 25, durationMs: 80 \}\) gives 16 face arrivals per network/,
  );
  assert.deepEqual(parseDemoArgs(["--streams", "4", "--batcher-delay", "250"]), {
    ...(parseDemoArgs([]) as object),
    streams: 4,
    batcherDelayUs: 250,
  });
  assert.throws(() => parseDemoArgs(["--streams", "0"]), { code: "BAD_INPUT" });
  const lone = spawnSync(
    process.execPath,
    [path.join(ROOT, "dist", "kernel", "cli", "main.js"), "demo", "--batcher-delay", "5"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(lone.status, 1);
  assert.match(lone.stderr, /--batcher-delay applies to --streams only/);
});
