/**
 * Configuration keys, Inference Engine style. Keys are accepted with or without the legacy
 * "KEY_" prefix; values are strings as in the Inference Engine ("YES"/"NO", "8").
 */
import { ConfigError } from "../errors";
import { MAX_PROGRAM_BYTES, type ParallelMode } from "../plugins/plugin";
import { table } from "../dict";
import type { AnalysisMode } from "../schema";

export interface DeviceConfig {
  dynBatchEnabled: boolean;
  /** Caps the network's batch as the maximum for setBatch; 0 = no cap. */
  dynBatchLimit: number;
  /** 0 = every hardware thread. */
  threads: number;
  analysis: AnalysisMode;
  /** How CPU runs spread over the threads: by layers, by samples, or measured per batch (auto). */
  parallel: ParallelMode;
  /** Largest activation tensor loadNetwork accepts, in bytes (at most the MAX_PROGRAM_BYTES hard budget). */
  maxTensorBytes: number;
  /** CPU: quantized convolutions and matmuls run as int8 kernels (FakeQuantize IR, QDQ ONNX); false keeps them FP32 with exact FakeQuantize. */
  int8: boolean;
}

/** 1 GiB: a batch or image one zero too large is asked about before it takes the machine's memory. */
const DEFAULT_MAX_TENSOR_BYTES = Math.min(2 ** 30, MAX_PROGRAM_BYTES);

export const DEFAULT_CONFIG: DeviceConfig = {
  dynBatchEnabled: false,
  dynBatchLimit: 0,
  threads: 0,
  analysis: "shape-aware",
  parallel: "auto",
  maxTensorBytes: DEFAULT_MAX_TENSOR_BYTES,
  int8: true,
};

export const CONFIG_KEYS = [
  "DYN_BATCH_ENABLED",
  "DYN_BATCH_LIMIT",
  "CPU_THREADS_NUM",
  "DYN_BATCH_ANALYSIS",
  "CPU_PARALLEL",
  "MAX_TENSOR_BYTES",
  "CPU_INT8",
] as const;

const MAX_THREADS = 256;

const PARALLEL_MODES: Record<string, ParallelMode> = table({ AUTO: "auto", LAYERS: "layers", SAMPLES: "samples" });

export function gib(bytes: number): string {
  return `${+(bytes / 2 ** 30).toFixed(2)} GiB`;
}

function canonicalKey(key: string): string {
  return key.startsWith("KEY_") ? key.slice(4) : key;
}

function yesNo(key: string, v: string): boolean {
  const s = String(v).toUpperCase();
  if (s === "YES" || s === "TRUE") return true;
  if (s === "NO" || s === "FALSE") return false;
  throw new ConfigError(`${key} must be "YES" or "NO", got "${v}"`);
}

function count(key: string, v: string): number {
  // Number("") is 0: an empty value would silently mean "no cap" or "all threads".
  const x = v.trim() === "" ? NaN : Number(v);
  if (!Number.isInteger(x) || x < 0) throw new ConfigError(`${key} must be a non-negative integer, got "${v}"`);
  return x;
}

/** Returns `base` with the given keys applied; throws ConfigError on unknown keys or bad values. */
export function applyConfig(base: DeviceConfig, config: Record<string, string | number | boolean>): DeviceConfig {
  const out = { ...base };
  for (const [rawKey, raw] of Object.entries(config)) {
    const key = canonicalKey(rawKey);
    const v = String(raw);
    switch (key) {
      case "DYN_BATCH_ENABLED":
        out.dynBatchEnabled = yesNo(key, v);
        break;
      case "DYN_BATCH_LIMIT":
        out.dynBatchLimit = count(key, v);
        break;
      case "CPU_THREADS_NUM":
        out.threads = count(key, v);
        // Each thread is an OpenMP thread and, for runs split by samples, a thread and an arena of
        // the request's own: tens of thousands ended the process inside libgomp.
        if (out.threads > MAX_THREADS) throw new ConfigError(`${key} must be at most ${MAX_THREADS}, got "${v}"`);
        break;
      case "DYN_BATCH_ANALYSIS":
        if (v !== "strict" && v !== "shape-aware")
          throw new ConfigError(`DYN_BATCH_ANALYSIS must be "strict" or "shape-aware", got "${v}"`);
        out.analysis = v;
        break;
      case "CPU_PARALLEL": {
        const mode = PARALLEL_MODES[v.toUpperCase()];
        if (!mode) throw new ConfigError(`CPU_PARALLEL must be "AUTO", "LAYERS" or "SAMPLES", got "${v}"`);
        out.parallel = mode;
        break;
      }
      case "MAX_TENSOR_BYTES": {
        const bytes = count(key, v);
        if (bytes < 1 || bytes > MAX_PROGRAM_BYTES) {
          throw new ConfigError(
            `${key} must be between 1 and ${MAX_PROGRAM_BYTES} (the tensor budget of this machine, ${gib(MAX_PROGRAM_BYTES)}), got "${v}"`,
          );
        }
        out.maxTensorBytes = bytes;
        break;
      }
      case "CPU_INT8":
        out.int8 = yesNo(key, v);
        break;
      default:
        throw new ConfigError(`Unsupported config key '${rawKey}'; known keys: ${CONFIG_KEYS.join(", ")}`);
    }
  }
  return out;
}

/** The Inference Engine's string form of one key. */
export function configValue(c: DeviceConfig, rawKey: string): string {
  switch (canonicalKey(rawKey)) {
    case "DYN_BATCH_ENABLED":
      return c.dynBatchEnabled ? "YES" : "NO";
    case "DYN_BATCH_LIMIT":
      return String(c.dynBatchLimit);
    case "CPU_THREADS_NUM":
      return String(c.threads);
    case "DYN_BATCH_ANALYSIS":
      return c.analysis;
    case "CPU_PARALLEL":
      return c.parallel.toUpperCase();
    case "MAX_TENSOR_BYTES":
      return String(c.maxTensorBytes);
    case "CPU_INT8":
      return c.int8 ? "YES" : "NO";
    default:
      throw new ConfigError(`Unsupported config key '${rawKey}'; known keys: ${CONFIG_KEYS.join(", ")}, FULL_DEVICE_NAME`);
  }
}
