// The GPU plugin through the public API: device listing and names, typed errors (no device,
// bad device name, kernel build failure with its log, out of device memory), several requests
// in flight, a free event loop and performance counters.
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GpuError, IECore, UnknownDeviceError } from "../../kernel";
import { loadGpuAddon, typedNativeError } from "../../kernel/plugins/native";
import { BUILD_OPTIONS_ENV, gpuDevices } from "../../kernel/plugins/gpu/plugin";
import { devices, pluginFor } from "../../kernel/plugins";
import { irPath, maxRelDiff, numel, randomData, ROOT } from "../helpers/models";

const opts = { skip: GPU_SKIP };
const LANDMARKS = irPath("landmarks-regression-retail-0009");

/** Runs `script` in a fresh Node process (OpenCL reads its platforms once per process) and parses its JSON output. */
function inChild(script: string, env: Record<string, string | undefined>): unknown {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const out = execFileSync(process.execPath, ["-e", script], { cwd: ROOT, env: childEnv, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop() ?? "null");
}

/** Child-process probe: the devices listed and what loading on "GPU" throws. */
const PROBE = `
const { IECore } = require("./dist/kernel");
(async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(${JSON.stringify(LANDMARKS)});
  let error = null;
  try { await ie.loadNetwork(net, "GPU"); } catch (e) { error = { name: e.name, code: e.code, message: e.message }; }
  console.log(JSON.stringify({ devices: ie.availableDevices, error }));
})();`;

test("availableDevices lists GPU; FULL_DEVICE_NAME names the OpenCL device; GPU.0 is the same device", opts, () => {
  const ie = new IECore();
  const list = gpuDevices();
  assert.ok(list.length >= 1);
  assert.deepEqual(ie.availableDevices, ["CPU", ...(list.length === 1 ? ["GPU"] : ["GPU", ...list.map((_, i) => `GPU.${i}`)])]);
  assert.deepEqual(devices(), ie.availableDevices);
  const name = ie.getConfig("GPU", "FULL_DEVICE_NAME");
  assert.ok(name.startsWith(list[0].name), name);
  assert.ok(name.includes(list[0].platform), name);
  if (list[0].type === "CPU") assert.match(name, /DYNBATCH_GPU_ALLOW_CPU=1/);
  assert.equal(ie.getConfig("GPU.0", "FULL_DEVICE_NAME"), name);
  assert.equal(pluginFor("GPU.0")?.device, "GPU.0");
  assert.equal(pluginFor("GPU.00"), undefined);
});

test("a device index that does not exist is an UnknownDeviceError listing the devices", opts, async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(LANDMARKS);
  await assert.rejects(ie.loadNetwork(net, "GPU.7"), (e: unknown) => {
    assert.ok(e instanceof UnknownDeviceError);
    assert.equal(e.code, "UNKNOWN_DEVICE");
    assert.match(e.message, /'GPU\.7'.*CPU, GPU/);
    return true;
  });
  assert.throws(() => ie.getConfig("GPU.7", "FULL_DEVICE_NAME"), UnknownDeviceError);
});

test("without any OpenCL platform (OCL_ICD_VENDORS = an empty folder) no GPU is listed and loading on GPU is a typed error", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-no-icd-"));
  try {
    const r = inChild(PROBE, { OCL_ICD_VENDORS: empty, DYNBATCH_GPU_ALLOW_CPU: "1" }) as {
      devices: string[];
      error: { name: string; code: string; message: string };
    };
    assert.deepEqual(r.devices, ["CPU"]);
    assert.equal(r.error.name, "GpuUnavailableError");
    assert.equal(r.error.code, "GPU_UNAVAILABLE");
    assert.match(r.error.message, /no OpenCL platform/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("an OpenCL CPU device is not offered as GPU unless DYNBATCH_GPU_ALLOW_CPU=1", opts, () => {
  const r = inChild(PROBE, { DYNBATCH_GPU_ALLOW_CPU: undefined }) as {
    devices: string[];
    error: { code: string; message: string } | null;
  };
  const realGpus = loadGpuAddon()
    .gpuDevices()
    .filter((d) => d.type === "GPU").length;
  if (realGpus > 0) {
    assert.ok(r.devices.includes("GPU"));
    return;
  }
  assert.deepEqual(r.devices, ["CPU"]);
  assert.equal(r.error?.code, "GPU_UNAVAILABLE");
  assert.match(r.error?.message ?? "", /DYNBATCH_GPU_ALLOW_CPU=1/);
});

test("a kernel build failure is a GpuError carrying the compiler's log", opts, async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(LANDMARKS);
  process.env[BUILD_OPTIONS_ENV] = "-Dfloat=no_such_type";
  try {
    await assert.rejects(ie.loadNetwork(net, "GPU"), (e: unknown) => {
      assert.ok(e instanceof GpuError, String(e));
      assert.equal(e.code, "GPU_BUILD_FAILED");
      assert.equal(e.clStatus, -11); // CL_BUILD_PROGRAM_FAILURE
      assert.match(e.buildLog ?? "", /no_such_type/);
      assert.match(e.message, /no_such_type/);
      return true;
    });
  } finally {
    delete process.env[BUILD_OPTIONS_ENV];
  }
  // The failed options are not cached in place of the good build.
  assert.equal((await ie.loadNetwork(net, "GPU")).device, "GPU");
});

test("a request larger than the device's memory is a GpuError GPU_OUT_OF_MEMORY, before anything runs", opts, () => {
  const dev = gpuDevices()[0];
  // One float more than a single buffer may hold.
  const cols = Math.floor(dev.maxAllocBytes / 4 / 1024) + 1;
  const program = new (loadGpuAddon().GpuProgram)(
    {
      maxBatch: 1,
      threads: 1,
      tensors: [
        { shape: [1024, cols], batched: false },
        { shape: [1024, cols], batched: false },
      ],
      ops: [{ type: "unary", name: "huge", inputs: [0], outputs: [1], attrs: { op: "relu" } }],
      inputs: [0],
      outputs: [1],
    },
    dev.index,
  );
  let caught: unknown;
  try {
    program.createRequest();
  } catch (e) {
    caught = e;
  }
  const typed = typedNativeError(caught, "huge.xml", "GPU");
  assert.ok(typed instanceof GpuError, String(caught));
  assert.equal(typed.code, "GPU_OUT_OF_MEMORY");
  assert.match(typed.message, /out of device memory/);
  assert.equal(typed.clStatus, -4); // CL_MEM_OBJECT_ALLOCATION_FAILURE
});

test("several requests in flight at different batches give each its own result", opts, async () => {
  const ie = new IECore();
  ie.setConfig({ DYN_BATCH_ENABLED: "YES" }, "GPU");
  const net = await ie.readNetwork(LANDMARKS);
  net.batchSize = 4;
  const exec = await ie.loadNetwork(net, "GPU");
  const sample = numel(exec.inputs["0"].shape.slice(1));
  const batches = [4, 1, 3, 2];
  const reqs = batches.map((n, i) => {
    const req = exec.createInferRequest();
    req.setBatch(n);
    req.setInput("0", randomData(n * sample, 20 + i));
    return req;
  });
  // Each one alone first, then all started together.
  const alone: Float32Array[] = [];
  for (const req of reqs) {
    await req.infer();
    alone.push(Float32Array.from(req.getBlob("95").data));
    req.getBlob("95").data.fill(NaN);
  }
  reqs.forEach((r) => r.startAsync());
  await Promise.all(reqs.map((r) => r.wait()));
  reqs.forEach((r, i) => {
    assert.deepEqual(r.getBlob("95").shape, [batches[i], 10, 1, 1]);
    assert.ok(maxRelDiff(r.getBlob("95").data, alone[i]) <= 1e-6, `request ${i}`);
  });
});

test("infer() on GPU leaves the event loop free and reports per-layer device times", opts, async () => {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  net.batchSize = 4;
  const req = (await ie.loadNetwork(net, "GPU")).createInferRequest();
  await req.infer(); // compiles on first use
  const done = req.infer();
  let ran = false;
  setImmediate(() => (ran = true));
  await done;
  // A run that blocked this thread would resolve before any macrotask; a free loop lets the immediate in first.
  assert.ok(ran, "infer() resolved before a callback queued after it started");
  const pc = Object.values(req.getPerformanceCounts());
  assert.ok(pc.length > 5);
  assert.ok(pc.every((c) => c.status === "EXECUTED" && c.realTimeUs >= 0));
  assert.ok(pc.some((c) => c.execType === "conv" && c.realTimeUs > 0));
});
