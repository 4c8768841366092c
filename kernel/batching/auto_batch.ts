/**
 * The BATCH meta device, as OpenVINO 2022 spells it: ie.loadNetwork(net, "BATCH:CPU(16)",
 * { AUTO_BATCH_TIMEOUT: "1" }) returns an executable network of batch 1 whose requests are
 * coalesced behind the scenes. Every request's infer() hands its sample to one Batcher shared by
 * the network, which runs the network loaded on the target device at the given batch: with
 * DYN_BATCH_ENABLED when the topology allows it, else at its static batch, padded.
 */
import { ConfigError, DynamicBatchError, UnknownDeviceError } from "../errors";
import { CompiledModel, DeviceRequest, IoBinding } from "../plugins";
import { ConfigMap, IECore, registerMetaDevice } from "../runtime/core";
import { ExecutableNetwork } from "../runtime/executable";
import { CNNNetwork } from "../runtime/network";
import { dict } from "../dict";
import { Batcher } from "./batcher";

/** "BATCH:<device>(<batch>)", the device being CPU, GPU or GPU.<i>. */
const BATCH_DEVICE = /^BATCH:([A-Z]+(?:\.\d+)?)\((.*)\)$/;

/** OpenVINO's default AUTO_BATCH_TIMEOUT: 1000 ms. */
const DEFAULT_TIMEOUT_MS = 1000;

const batchers = new WeakMap<ExecutableNetwork, Batcher>();

/** The batcher behind a network loaded on "BATCH:…" (for its stats()), or undefined for any other network. */
export function batcherOf(exec: ExecutableNetwork): Batcher | undefined {
  return batchers.get(exec);
}

function parseDevice(ie: IECore, device: string): { target: string; batch: number } {
  const m = BATCH_DEVICE.exec(device);
  if (!m) throw new ConfigError(`Device '${device}': expected BATCH:<device>(<batch>), as in BATCH:CPU(16)`);
  const [, target, n] = m;
  if (!/^[1-9]\d*$/.test(n))
    throw new ConfigError(`Device '${device}': the batch in BATCH:${target}(<batch>) must be a positive integer, got '${n}'`);
  // GPU names go on to the GPU plugin, which says why a GPU is missing (GpuUnavailableError).
  if (target !== "CPU" && !target.startsWith("GPU")) throw new UnknownDeviceError(device, ie.availableDevices);
  return { target, batch: Number(n) };
}

/** AUTO_BATCH_TIMEOUT in milliseconds; fractions allowed, since the policies worth measuring lie below 1 ms. */
function parseTimeout(raw: string | number | boolean | undefined): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  const v = String(raw).trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(v) || v < 0)
    throw new ConfigError(`AUTO_BATCH_TIMEOUT must be a non-negative number of milliseconds, got "${String(raw)}"`);
  return v;
}

/** The target network at `batch`: dynamic unless the caller said DYN_BATCH_ENABLED or the topology refuses it. */
async function loadTarget(
  ie: IECore,
  net: CNNNetwork,
  target: string,
  batch: number,
  config: ConfigMap,
): Promise<ExecutableNetwork> {
  // A copy at the batch: the user's network keeps its shapes.
  const inner = new CNNNetwork(net.graph);
  inner.reshape(dict(Object.entries(net.inputs).map(([name, p]) => [name, [batch, ...p.shape.slice(1)]])));
  const explicit = Object.keys(config).some((k) => k.replace(/^KEY_/, "") === "DYN_BATCH_ENABLED");
  if (explicit) return ie.loadNetwork(inner, target, config);
  try {
    return await ie.loadNetwork(inner, target, { ...config, DYN_BATCH_ENABLED: "YES" });
  } catch (e) {
    if (!(e instanceof DynamicBatchError)) throw e;
    return ie.loadNetwork(inner, target, config);
  }
}

/**
 * A request of the batch-1 network: its own buffers, one per input and output; run() submits the
 * inputs to the shared batcher and copies the sample's outputs back.
 */
function coalescedRequest(batcher: Batcher, inputs: IoBinding[], outputs: IoBinding[]): DeviceRequest {
  const size = (b: IoBinding) => b.shape.reduce((a, d) => a * d, 1);
  const buffers = [...inputs, ...outputs].map((b) => new Float32Array(size(b)));
  return {
    buffer: (tensor) => buffers[tensor],
    run: async () => {
      const got = await batcher.infer(Object.fromEntries(inputs.map((b) => [b.name, buffers[b.tensor]])));
      for (const b of outputs) buffers[b.tensor].set(got[b.name].data);
      return new Float64Array(0);
    },
  };
}

async function loadAutoBatch(ie: IECore, net: CNNNetwork, device: string, config: ConfigMap): Promise<ExecutableNetwork> {
  const { target, batch } = parseDevice(ie, device);
  const rest = Object.fromEntries(Object.entries(config).filter(([k]) => k.replace(/^KEY_/, "") !== "AUTO_BATCH_TIMEOUT"));
  const timeoutMs = parseTimeout(Object.entries(config).find(([k]) => k.replace(/^KEY_/, "") === "AUTO_BATCH_TIMEOUT")?.[1]);
  const exec = await loadTarget(ie, net, target, batch, rest);
  const batcher = exec.createBatcher({ maxDelayUs: timeoutMs * 1000 });
  const binding = (entries: [string, { shape: number[] }][], first: number): IoBinding[] =>
    entries.map(([name, p], i) => ({ name, aliases: [name], shape: [1, ...p.shape.slice(1)], batched: true, tensor: first + i }));
  const inputs = binding(Object.entries(exec.inputs), 0);
  const outputs = binding(Object.entries(exec.outputs), inputs.length);
  // No per-layer counters: a request's sample runs inside batches shared with other requests.
  const model: CompiledModel = { inputs, outputs, layers: [], createRequest: () => coalescedRequest(batcher, inputs, outputs) };
  const coalesced = new ExecutableNetwork(model, 1, false, device, exec.analysis);
  batchers.set(coalesced, batcher);
  return coalesced;
}

registerMetaDevice("BATCH", loadAutoBatch);
