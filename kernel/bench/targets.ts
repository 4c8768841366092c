/**
 * The performance targets of issue 12, checked on a bench run: one result per target, model and
 * batch, met or missed with its number. Only what was measured is judged: a batch or mode that
 * did not run gives no result rather than a miss.
 */
import { LatencyMode, LatencyPoint, LatencyReport } from "../schema";

export const TARGETS = {
  /** The seed's secondary networks and the generated classifiers, against onnxruntime-node. */
  versusOrt: {
    models: [
      "landmarks-regression-retail-0009",
      "head-pose-estimation-adas-0001",
      "open-closed-eye-0001",
      "resnet18-shaped",
      "mobilenetv2-shaped",
    ],
    /** dynamic latency / ORT latency, at most. */
    latency: { batch: 1, max: 0.7 },
    /** dynamic throughput / ORT throughput, at least. */
    throughput: { batches: [8, 16], min: 1.5 },
  },
  /** GFLOP/s over the FP32 peak, at least; static, as the detector cannot run a dynamic batch. */
  peak: { model: "face-detection-adas-0001", batch: 1, min: 0.75 },
  /** dynamic latency / static latency at every batch, at most. */
  dynamicOverStatic: { max: 1.03 },
};

export type TargetKind = "latency-vs-ort" | "throughput-vs-ort" | "fraction-of-peak" | "dynamic-over-static";

export interface TargetResult {
  target: TargetKind;
  model: string;
  /** The batch judged; for dynamic-over-static, the worst one. */
  batch: number;
  value: number;
  limit: number;
  /** Whether `value` must be at most ("max") or at least ("min") `limit`. */
  bound: "max" | "min";
  met: boolean;
}

function result(
  target: TargetKind,
  model: string,
  batch: number,
  value: number,
  limit: number,
  bound: "max" | "min",
): TargetResult {
  return { target, model, batch, value, limit, bound, met: bound === "max" ? value <= limit : value >= limit };
}

/**
 * Every target that applies to `reports`, grouped by target in the order. `peakGflops`
 * overrides each report's own peak (the bench keeps the best of the measurements around the run).
 */
export function checkTargets(reports: readonly LatencyReport[], peakGflops?: number): TargetResult[] {
  const at = (r: LatencyReport, n: number, mode: LatencyMode): LatencyPoint | undefined =>
    r.points.find((p) => p.batch === n && p.mode === mode);
  const { versusOrt, peak, dynamicOverStatic } = TARGETS;
  const vsOrt = reports.filter((r) => versusOrt.models.includes(r.model));
  const out: TargetResult[] = [];

  for (const r of vsOrt) {
    const n = versusOrt.latency.batch;
    const dyn = at(r, n, "dynamic");
    const ort = at(r, n, "ort");
    if (dyn && ort)
      out.push(result("latency-vs-ort", r.model, n, dyn.latencyMs.p50 / ort.latencyMs.p50, versusOrt.latency.max, "max"));
  }
  for (const n of versusOrt.throughput.batches) {
    for (const r of vsOrt) {
      const dyn = at(r, n, "dynamic");
      const ort = at(r, n, "ort");
      if (dyn && ort)
        out.push(result("throughput-vs-ort", r.model, n, dyn.throughput / ort.throughput, versusOrt.throughput.min, "min"));
    }
  }
  for (const r of reports.filter((x) => x.model === peak.model)) {
    const ours = at(r, peak.batch, "dynamic") ?? at(r, peak.batch, "static");
    const p = peakGflops ?? r.peakGflops;
    if (ours?.gflops !== undefined && p)
      out.push(result("fraction-of-peak", r.model, peak.batch, ours.gflops / p, peak.min, "min"));
  }
  for (const r of reports) {
    let worst: TargetResult | undefined;
    for (const dyn of r.points.filter((p) => p.mode === "dynamic")) {
      const st = at(r, dyn.batch, "static");
      if (!st) continue;
      const t = result(
        "dynamic-over-static",
        r.model,
        dyn.batch,
        dyn.latencyMs.p50 / st.latencyMs.p50,
        dynamicOverStatic.max,
        "max",
      );
      if (!worst || t.value > worst.value) worst = t;
    }
    if (worst) out.push(worst);
  }
  return out;
}

const LABELS: Record<TargetKind, string> = {
  "latency-vs-ort": "dynamic/ORT latency",
  "throughput-vs-ort": "dynamic/ORT throughput",
  "fraction-of-peak": "fraction of the FP32 peak",
  "dynamic-over-static": "dynamic/static latency, worst n",
};

/** "met     model n=1: dynamic/ORT latency 0.620 (target ≤ 0.7)", one line per result, after a count. */
export function formatTargets(results: readonly TargetResult[]): string[] {
  if (results.length === 0) return ["Targets (issue 12): none apply to the models and batches measured"];
  const met = results.filter((t) => t.met).length;
  const lines = results.map((t) => {
    // Three decimals: a ratio of 1.031 misses a 1.03 target and must not print as 1.03.
    const [value, limit] =
      t.target === "fraction-of-peak"
        ? [`${(100 * t.value).toFixed(1)}%`, `${100 * t.limit}%`]
        : [t.value.toFixed(3), String(t.limit)];
    const bound = t.bound === "max" ? "≤" : "≥";
    return `${(t.met ? "met" : "missed").padEnd(6)}  ${t.model} n=${t.batch}: ${LABELS[t.target]} ${value} (target ${bound} ${limit})`;
  });
  return [`Targets (issue 12): ${met} of ${results.length} met`, ...lines];
}
