/** IECore: the entry point: devices, configuration, reading and loading networks. */
import * as fs from "fs";
import { readModel } from "../readers";
import { checkDeclaredShapes } from "../readers/ir";
import { ConfigError, DynamicBatchError, ExtensionError, ModelError } from "../errors";
import { deviceError, devices, pluginFor, Plugin } from "../plugins";
import { applyConfig, configValue, DEFAULT_CONFIG, DeviceConfig, gib } from "./config";
import { CNNNetwork, largestTensor } from "./network";
import { Graph } from "../graph/graph";
import { CompiledModel, CompileOptions, MAX_PROGRAM_BYTES } from "../plugins/plugin";
import { checkExtension, Extension, extensionLabel } from "./extension";
import { compileWithExtensions } from "./custom_program";
import { ExecutableNetwork } from "./executable";
import { loadSplit, SplitNetwork } from "./split_network";

export type ConfigMap = Record<string, string | number | boolean>;

/** Options of readNetwork beyond the weights file. */
export interface ReadNetworkOptions {
  /** The IR's .bin, when not beside the .xml. */
  weights?: string;
  /** Input shapes bound at read, as net.reshape() would (the model's free dims: ONNX dim_param, IR ? and 1..10). */
  shapes?: Record<string, number[]>;
  /**
   * Inputs made constants at read, as OpenVINO's convert_model(input=...) does for an input given a
   * value: `{ sr: [16000] }`. Each becomes a constant of its declared element type (integer inputs
   * too) and shape, is no longer a network input, and an ONNX If it decides keeps only its taken branch.
   */
  freeze?: Record<string, number[]>;
}

/**
 * Refuses a prepared network whose largest activation exceeds MAX_TENSOR_BYTES: a batch or an
 * image one zero too large would otherwise run for many seconds at gigabytes before anyone asked.
 */
function checkTensorBytes(g: Graph, c: DeviceConfig, device: string): Graph {
  const big = largestTensor(g);
  if (big.bytes > c.maxTensorBytes) {
    const raise =
      big.bytes <= MAX_PROGRAM_BYTES
        ? `raise the limit with ie.setConfig({ MAX_TENSOR_BYTES: "${big.bytes}" }, "${device}")`
        : `this machine's tensor budget (${gib(MAX_PROGRAM_BYTES)}) cannot hold it either`;
    throw new ConfigError(
      `${g.file}: output ${big.port} of layer '${big.layer}' [${big.shape}] needs ${gib(big.bytes)} (${big.bytes} bytes), ` +
        `above MAX_TENSOR_BYTES = ${c.maxTensorBytes} (${gib(c.maxTensorBytes)}); lower the batch or the input size, or ${raise}`,
    );
  }
  return g;
}

/**
 * Loads a network on a meta device, "<PREFIX>:<device spec>" (OpenVINO's BATCH:CPU(16)). A layer
 * above the runtime registers its prefix, so that the runtime never imports it
 * (kernel/batching/auto_batch.ts registers "BATCH").
 */
export type MetaDeviceLoader = (ie: IECore, net: CNNNetwork, device: string, config: ConfigMap) => Promise<ExecutableNetwork>;

const metaDevices = new Map<string, MetaDeviceLoader>();

export function registerMetaDevice(prefix: string, loader: MetaDeviceLoader): void {
  metaDevices.set(prefix, loader);
}

/** Compiles on the plugin; a network with custom layers runs as native segments around their callbacks. */
function compile(plugin: Plugin, net: CNNNetwork, g: Graph, opts: CompileOptions): CompiledModel {
  if (!g.nodes.some((n) => net.extensionOf(n))) return plugin.compile(g, opts);
  return compileWithExtensions(plugin, g, opts, (n) => net.extensionOf(n));
}

export class IECore {
  private readonly configs = new Map<string, DeviceConfig>();
  private readonly extensions: Extension[] = [];

  /**
   * Registers a custom layer for the networks read after this call: its shape rule, whether it
   * keeps samples independent (trusted by the shape-aware analysis), and its CPU computation.
   */
  addExtension(ext: Extension): void {
    checkExtension(ext);
    const label = extensionLabel(ext);
    if (this.extensions.some((e) => extensionLabel(e) === label))
      throw new ExtensionError(label, "an extension for this type and domain is already registered");
    this.extensions.push({ ...ext });
  }

  /** Devices a network can be loaded on. */
  get availableDevices(): string[] {
    return devices();
  }

  private plugin(device: string): Plugin {
    const p = pluginFor(device);
    // UnknownDeviceError, or GpuUnavailableError for "GPU" without a usable OpenCL device.
    if (!p) throw deviceError(device);
    return p;
  }

  private config(device: string): DeviceConfig {
    return this.configs.get(device) ?? DEFAULT_CONFIG;
  }

  /** Sets keys for one device, or for every device when none is named. */
  setConfig(config: ConfigMap, device?: string): void {
    const targets = device === undefined ? this.availableDevices : [this.plugin(device).device];
    const next = targets.map((d) => [d, applyConfig(this.config(d), config)] as const);
    for (const [d, c] of next) this.configs.set(d, c);
  }

  getConfig(device: string, key: string): string {
    const p = this.plugin(device);
    if (key === "FULL_DEVICE_NAME") return p.fullDeviceName;
    return configValue(this.config(device), key);
  }

  /**
   * Reads IR (.xml with the .bin beside it, or `weights`) or ONNX. Free dims other than the batch
   * stay free until `shapes` (here) or net.reshape() binds them; `freeze` makes inputs constants.
   */
  async readNetwork(model: string, options?: string | ReadNetworkOptions): Promise<CNNNetwork> {
    if (typeof model !== "string" || !fs.existsSync(model)) throw new ModelError(String(model), "model file not found");
    const opts = typeof options === "string" ? { weights: options } : (options ?? {});
    const graph = readModel(model, opts.weights, opts.freeze);
    const net = new CNNNetwork(graph, this.extensions);
    if (opts.shapes) net.reshape(opts.shapes);
    // An IR states every port's dims; ONNX value_info is optional and partial, so only IR is held to
    // them. An unbound network, or one with a layer no one implements, has nothing inferred to check yet.
    if (graph.format.startsWith("ir") && net.isBound() && net.runnable) checkDeclaredShapes(graph, net.prepared());
    return net;
  }

  /**
   * Compiles `net` for `device`. With DYN_BATCH_ENABLED the topology analysis runs first and an
   * unsupported topology throws DynamicBatchError listing every offending layer. A meta device
   * ("BATCH:CPU(16)") goes to the loader registered for its prefix.
   */
  async loadNetwork(net: CNNNetwork, device = "CPU", config: ConfigMap = {}): Promise<ExecutableNetwork> {
    const meta =
      typeof device === "string" && device.includes(":") ? metaDevices.get(device.slice(0, device.indexOf(":"))) : undefined;
    if (meta) return meta(this, net, device, config);
    const plugin = this.plugin(device);
    // UnboundShapeError listing every free dim, before any analysis or compile step trips on one.
    net.prepared();
    const c = applyConfig(this.config(plugin.device), config);
    if (net instanceof SplitNetwork)
      return loadSplit(net, {
        plugin,
        config: c,
        compile: (n, g, opts) => compile(plugin, n, g, opts),
        checkBytes: (g) => checkTensorBytes(g, c, plugin.device),
      });
    const netBatch = net.batchSize;
    const limit = c.dynBatchLimit > 0 ? Math.min(c.dynBatchLimit, netBatch) : netBatch;
    const threads = c.threads > 0 ? c.threads : plugin.defaultThreads;
    if (!c.dynBatchEnabled) {
      // A static batch proven sample-independent still lets threads split a run by samples.
      const independent = netBatch > 1 && net.analyze({ mode: "shape-aware" }).supported;
      const compiled = compile(plugin, net, checkTensorBytes(net.prepared(), c, plugin.device), {
        maxBatch: netBatch,
        batched: independent ? net.batchAxes() : null,
        threads,
        independentSamples: independent,
        parallel: c.parallel,
        int8: c.int8,
      });
      return new ExecutableNetwork(compiled, netBatch, false, plugin.device);
    }
    const report = net.analyze({ mode: c.analysis });
    if (!report.supported) {
      throw new DynamicBatchError(
        net.name,
        report.mode,
        report.layers
          .filter((l) => l.verdict === "unsupported")
          .map((l) => ({ name: l.name, type: l.type, legacyType: l.legacyType, reason: l.reason })),
      );
    }
    const batched = net.batchAxes();
    // The strict rule admits layers (a SoftMax over any axis) that may mix samples: splitting by samples needs the proof.
    const independent = report.mode === "shape-aware" || net.analyze({ mode: "shape-aware" }).supported;
    const compiled = compile(plugin, net, checkTensorBytes(net.prepared(limit), c, plugin.device), {
      maxBatch: limit,
      batched,
      threads,
      independentSamples: independent,
      parallel: c.parallel,
      int8: c.int8,
    });
    return new ExecutableNetwork(compiled, limit, true, plugin.device, report);
  }
}
