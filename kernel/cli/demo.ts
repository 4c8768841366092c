/**
 * The headless demo on the bundled models: the topology verdicts, the seed's face cascade on
 * media/faces.jpg (detection at a static batch, then every face at once with setBatch), and the
 * cost of setBatch(n) against the limit.
 */
import * as path from "path";
import { IECore } from "../runtime/core";
import { CNNNetwork } from "../runtime/network";
import { facesFrom } from "../cascade/faces";
import { imageSize, loadBgrPlanar } from "./image";

// Kept importable from here for the single-image test.
export { facesFrom };

const ROOT = path.resolve(__dirname, "../../..");
const MODELS = [
  "landmarks-regression-retail-0009",
  "head-pose-estimation-adas-0001",
  "open-closed-eye-0001",
  "face-detection-adas-0001",
];

function modelPath(name: string): string {
  return path.join(ROOT, "models", name, "FP16", `${name}.xml`);
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

async function verdicts(ie: IECore): Promise<void> {
  console.log("Topology analysis: can the network run with a dynamic batch?");
  console.log(`  ${pad("model", 36)}${pad("strict", 8)}${pad("shape-aware", 13)}blocking layer types (strict | shape-aware)`);
  for (const m of MODELS) {
    const net: CNNNetwork = await ie.readNetwork(modelPath(m));
    const strict = net.analyze({ mode: "strict" });
    const aware = net.analyze({ mode: "shape-aware" });
    const blocking = (r: typeof strict) =>
      [...new Set(r.layers.filter((l) => l.verdict === "unsupported").map((l) => l.legacyType))].join(", ") || "—";
    console.log(
      `  ${pad(m, 36)}${pad(strict.supported ? "yes" : "no", 8)}${pad(aware.supported ? "yes" : "no", 13)}${blocking(strict)} | ${blocking(aware)}`,
    );
  }
}

async function cascade(ie: IECore, image: string, maxFaces: number): Promise<void> {
  const { width, height } = imageSize(image);
  const det = await ie.loadNetwork(await ie.readNetwork(modelPath("face-detection-adas-0001")), "CPU");
  const detReq = det.createInferRequest();
  const [detInput, detInfo] = Object.entries(det.inputs)[0];
  const [, , dh, dw] = detInfo.shape;
  detReq.setInput(detInput, loadBgrPlanar(image, dw, dh));
  let t = performance.now();
  await detReq.infer();
  const faces = facesFrom(detReq.getBlob(Object.keys(det.outputs)[0]).data, width, height, 0.5).slice(0, maxFaces);
  console.log(`\nFace cascade on ${path.relative(process.cwd(), image)} (${width}×${height}):`);
  console.log(
    `  face-detection-adas-0001, static batch 1: ${faces.length} faces ≥ 0.5 in ${(performance.now() - t).toFixed(1)} ms`,
  );
  if (faces.length === 0) return;

  const second = async (name: string, size: number) => {
    const net = await ie.readNetwork(modelPath(name));
    net.batchSize = maxFaces;
    const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
    const req = exec.createInferRequest();
    req.setBatch(faces.length);
    const input = Object.keys(exec.inputs)[0];
    const blob = req.getBlob(input);
    faces.forEach((f, i) => blob.data.set(loadBgrPlanar(image, size, size, f), i * 3 * size * size));
    t = performance.now();
    await req.infer();
    console.log(
      `  ${name}: loaded once with batchSize ${maxFaces}, setBatch(${faces.length}) in ${(performance.now() - t).toFixed(1)} ms`,
    );
    return req;
  };
  const lm = await second("landmarks-regression-retail-0009", 48);
  const hp = await second("head-pose-estimation-adas-0001", 60);
  const points = lm.getBlob("95").data;
  const [yaw, pitch, roll] = ["fc_y", "fc_p", "fc_r"].map((o) => hp.getBlob(o).data);
  console.log(
    `  ${pad("face", 6)}${pad("box (x,y,w,h)", 22)}${pad("conf", 7)}${pad("yaw", 8)}${pad("pitch", 8)}${pad("roll", 8)}left eye (px)`,
  );
  faces.forEach((f, i) => {
    const eye = `${Math.round(f.x + points[i * 10] * f.w)},${Math.round(f.y + points[i * 10 + 1] * f.h)}`;
    console.log(
      `  ${pad(i, 6)}${pad(`${f.x},${f.y},${f.w},${f.h}`, 22)}${pad(f.conf.toFixed(2), 7)}${pad(yaw[i].toFixed(1), 8)}${pad(pitch[i].toFixed(1), 8)}${pad(roll[i].toFixed(1), 8)}${eye}`,
    );
  });
}

async function batchCost(ie: IECore, limit: number): Promise<void> {
  const net = await ie.readNetwork(modelPath("landmarks-regression-retail-0009"));
  net.batchSize = limit;
  const exec = await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" });
  const req = exec.createInferRequest();
  console.log(`\nWhat setBatch(n) costs (landmarks-regression-retail-0009, limit ${limit}, median of 20 runs):`);
  console.log(`  ${pad("n", 5)}${pad("ms", 10)}ms per sample`);
  for (const n of [1, 2, 4, 8, 16, 32].filter((n) => n <= limit)) {
    req.setBatch(n);
    req.getBlob("0").data.fill(128);
    await req.infer();
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await req.infer();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const ms = times[10];
    console.log(`  ${pad(n, 5)}${pad(ms.toFixed(3), 10)}${(ms / n).toFixed(3)}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(
      "usage: dynbatch image [IMAGE]   (or npm run demo [-- IMAGE])\n  Runs the bundled models: topology verdicts, a face cascade with setBatch, batch cost.",
    );
    return 0;
  }
  const image = argv.find((a) => !a.startsWith("-")) ?? path.join(ROOT, "media", "faces.jpg");
  const ie = new IECore();
  console.log(`dynbatch demo — ${ie.getConfig("CPU", "FULL_DEVICE_NAME")}\n`);
  await verdicts(ie);
  await cascade(ie, image, 16);
  await batchCost(ie, 32);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`dynbatch demo: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
