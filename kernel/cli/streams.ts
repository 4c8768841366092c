/**
 * `dynbatch demo --streams K --batcher-delay US`: K cameras (the video at K offsets) whose faces
 * go to landmarks and head pose one at a time, as independent callers: once through one Batcher
 * per network (maxDelay US), once with one batch-1 request per face (two requests per network),
 * paced in real time at the video's frame rate. Prints what callers saw, the batch sizes the
 * batchers formed, and the recorded face counts as streamArrivals() replays them.
 */
import * as path from "path";
import { streamArrivals } from "../batching/arrivals";
import { Batcher } from "../batching/batcher";
import { requestPool } from "../batching/pool";
import { FaceCascade } from "../cascade/pipeline";
import { cropFaces, FaceCrops, replayStreams, StreamReport, StreamRunners } from "../cascade/streams";
import { ExecutableNetwork } from "../runtime/executable";
import { IECore } from "../runtime/core";
import { probeVideo, readFrames } from "../video/decode";

const MODELS = path.resolve(__dirname, "../../../models");
const SECONDARY = ["landmarks-regression-retail-0009", "head-pose-estimation-adas-0001"] as const;

export interface StreamsArgs {
  video: string;
  device: string;
  streams: number;
  batcherDelayUs: number;
  /** Video frames recorded (and frames each stream sends); default all. */
  frames?: number;
  start: number;
  maxFaces: number;
  threshold: number;
}

async function load(ie: IECore, model: string, device: string, batch: number): Promise<ExecutableNetwork> {
  const net = await ie.readNetwork(path.join(MODELS, model, "FP16", `${model}.xml`));
  net.batchSize = batch;
  return ie.loadNetwork(net, device, { DYN_BATCH_ENABLED: "YES" });
}

function row(label: string, r: StreamReport): string[] {
  const f = (x: number) => x.toFixed(1);
  return [
    label,
    String(r.samples),
    f(r.throughput),
    `${f(r.faceLatencyMs.p50)} / ${f(r.faceLatencyMs.p99)}`,
    `${f(r.frameLatencyMs.p50)} / ${f(r.frameLatencyMs.p99)}`,
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => "  " + r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ")).join("\n");
}

/** "1×12 2×30 4×3". */
function histogram(b: Batcher): string {
  return Object.entries(b.stats().histogram)
    .map(([n, c]) => `${n}×${c}`)
    .join(" ");
}

/** Runs the multi-stream demo; returns the exit code. */
export async function runStreamsDemo(args: StreamsArgs): Promise<number> {
  const info = probeVideo(args.video);
  const ie = new IECore();
  const cascade = await FaceCascade.load(ie, {
    device: args.device,
    maxFaces: args.maxFaces,
    threshold: args.threshold,
    strategies: ["dynamic"],
  });
  const recording: FaceCrops[] = [];
  for await (const frame of readFrames(args.video, { start: args.start, maxFrames: args.frames }))
    recording.push(await cropFaces(cascade, frame));
  const counts = cascade.faceCounts;
  const fps = info.fps;
  const steps = recording.length;
  console.log(
    `dynbatch demo --streams ${args.streams}: ${path.basename(args.video)} at ${args.streams} offsets, ${steps} frames each at ${+fps.toFixed(2)} fps; ` +
      `faces per frame recorded: mean ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(2)}, max ${Math.max(...counts)}`,
  );
  const batch = args.maxFaces * args.streams;
  const execs = await Promise.all(SECONDARY.map((m) => load(ie, m, args.device, batch)));
  const batchers = execs.map((e) => new Batcher(e, { maxDelayUs: args.batcherDelayUs }));
  const inputs = execs.map((e) => Object.keys(e.inputs)[0]);
  const coalesced: StreamRunners = {
    landmarks: (s) => batchers[0].infer({ [inputs[0]]: s }),
    headPose: (s) => batchers[1].infer({ [inputs[1]]: s }),
  };
  const pools = execs.map((e) => requestPool(e, 2));
  const plain: StreamRunners = {
    landmarks: (s) => pools[0]({ [inputs[0]]: s }),
    headPose: (s) => pools[1]({ [inputs[1]]: s }),
  };
  const opts = { streams: args.streams, fps, steps };
  // Untimed once at every batch size the run may form: a network's first runs at a batch are slow.
  for (const e of execs) {
    const req = e.createInferRequest();
    for (let n = 1; n <= batch; n++) {
      req.setBatch(n);
      await req.infer();
    }
  }
  const batched = await replayStreams(recording, { ...opts, run: coalesced });
  const single = await replayStreams(recording, { ...opts, run: plain });
  await Promise.all(batchers.map((b) => b.close()));
  const durationMs = (steps * 1000) / fps;
  console.log("");
  console.log(
    table([
      ["", "samples", "samples/s", "face p50 / p99 ms", "frame p50 / p99 ms"],
      row(`one batcher per network, maxDelay ${args.batcherDelayUs} µs`, batched),
      row("one batch-1 request per face (2 per network)", single),
    ]),
  );
  console.log("");
  console.log(`batches formed (size×count): landmarks ${histogram(batchers[0])}; head pose ${histogram(batchers[1])}`);
  console.log(
    `recorded arrivals: streamArrivals(cascade.faceCounts, { streams: ${args.streams}, fps: ${+fps.toFixed(2)}, durationMs: ${durationMs.toFixed(0)} }) ` +
      `gives ${streamArrivals(counts, { streams: args.streams, fps, durationMs }).length} face arrivals per network`,
  );
  return 0;
}
