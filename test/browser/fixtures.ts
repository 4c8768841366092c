/**
 * Topology payloads for the browser tests: the shared models' real MIME payloads (strict report
 * with the shape-aware one as `alternate`, as display([strict, shapeAware]) emits them), a
 * generated 5000-layer network for the performance checks, and a report whose layer names are
 * markup, for the escaping check.
 */
import { IECore, toMimeBundle, TOPOLOGY_MIME } from "../../kernel";
import type { LayerVerdict, TopologyReport } from "../../kernel/schema";
import { irPath } from "../helpers/models";

/** The four shared models as the view tests use them (open-closed-eye from its FP32 IR). */
export const TOPOLOGY_MODELS: { model: string; precision: "FP16" | "FP32" }[] = [
  { model: "landmarks-regression-retail-0009", precision: "FP16" },
  { model: "head-pose-estimation-adas-0001", precision: "FP16" },
  { model: "open-closed-eye-0001", precision: "FP32" },
  { model: "face-detection-adas-0001", precision: "FP16" },
];

/** The strict report with the shape-aware report as `alternate`: the payload the kernel displays. */
export async function modelPayload(model: string, precision: "FP16" | "FP32" = "FP16"): Promise<TopologyReport> {
  const net = await new IECore().readNetwork(irPath(model, precision));
  const strict = net.analyze({ mode: "strict" });
  const shapeAware = net.analyze({ mode: "shape-aware" });
  return toMimeBundle([strict, shapeAware])[TOPOLOGY_MIME] as TopologyReport;
}

/** Fills in `supported` and `summary` from the layers' verdicts. */
export function withSummary(model: string, mode: TopologyReport["mode"], layers: LayerVerdict[]): TopologyReport {
  const count = (v: LayerVerdict["verdict"]) => layers.filter((l) => l.verdict === v).length;
  const blocking = layers.filter((l) => l.verdict === "unsupported").map((l) => l.name);
  return {
    model,
    mode,
    supported: blocking.length === 0,
    layers,
    summary: {
      total: layers.length,
      supported: count("supported"),
      unsupported: count("unsupported"),
      constant: count("constant"),
      blocking,
    },
  };
}

/**
 * A shape-aware report of `count` non-constant layers shaped like an Inception-style CNN:
 * blocks of four branches (1 to 3 convolutions each, every convolution with a folded weight
 * constant) joined by a Concat; every 25th block ends in a batch-folding Reshape, the blocker.
 */
export function generatedReport(count = 5000): TopologyReport {
  const layers: LayerVerdict[] = [];
  let nextId = 0;
  let real = 0;
  const add = (
    name: string,
    type: string,
    legacyType: string,
    verdict: LayerVerdict["verdict"],
    inputs: number[],
    reason: string,
    outputShape: (number | string)[],
  ) => {
    const id = nextId++;
    if (verdict !== "constant") real += 1;
    layers.push({ id, name, type, legacyType, verdict, reason, inputs, outputShape });
    return id;
  };
  let prev = add("data", "Parameter", "Input", "supported", [], "input: axis 0 is the batch N", ["N", 3, 28, 28]);
  for (let block = 0; real < count; block++) {
    const ends: number[] = [];
    for (let branch = 0; branch < 4 && real < count; branch++) {
      let p = prev;
      for (let k = 0; k <= branch % 3 && real < count; k++) {
        const w = add(`block${block}/b${branch}/conv${k}/weights`, "Const", "Const", "constant", [], "constant", [64, 64, 3, 3]);
        p = add(
          `block${block}/b${branch}/conv${k}`,
          "Convolution",
          "Convolution",
          "supported",
          [p, w],
          "Convolution keeps axis 0 = N",
          ["N", 64, 28, 28],
        );
      }
      ends.push(p);
    }
    if (real >= count) break;
    prev = add(`block${block}/concat`, "Concat", "Concatenation", "supported", ends, "Concat along axis 1 keeps samples", [
      "N",
      256,
      28,
      28,
    ]);
    if (block % 25 === 24 && real < count) {
      const reason = "Reshape [N,256,28,28] → [1,200704N] folds the batch into axis 1";
      prev = add(`block${block}/reshape`, "Reshape", "Reshape", "unsupported", [prev], reason, [1, "200704N"]);
    }
  }
  return withSummary("generated-5000", "shape-aware", layers);
}

/** The name the escaping test gives a layer: markup that would run script if it were parsed. */
export const XSS_NAME = "<img src=x onerror=alert(1)>";

/** A small strict report whose unsupported layer is named XSS_NAME, with markup in its type and reason too. */
export function xssReport(): TopologyReport {
  const layers: LayerVerdict[] = [
    {
      id: 0,
      name: "data",
      type: "Parameter",
      legacyType: "Input",
      verdict: "supported",
      reason: "network input",
      inputs: [],
      outputShape: [1, 3, 8, 8],
    },
    {
      id: 1,
      name: "<b>shape</b>",
      type: "Const",
      legacyType: "Const",
      verdict: "constant",
      reason: "constant",
      inputs: [],
      outputShape: [2],
    },
    {
      id: 2,
      name: XSS_NAME,
      type: "Reshape<script>alert(2)</script>",
      legacyType: "Reshape",
      verdict: "unsupported",
      reason: "<svg onload=alert(3)> folds the batch",
      inputs: [0, 1],
      outputShape: [1, 192],
    },
    {
      id: 3,
      name: "out",
      type: "Result",
      legacyType: "Output",
      verdict: "supported",
      reason: "network output",
      inputs: [2],
      outputShape: [1, 192],
    },
  ];
  return withSummary("<i>xss</i>", "strict", layers);
}

/** One layer of a hand-made report; the reason names its type. */
export function layer(
  id: number,
  name: string,
  type: string,
  verdict: LayerVerdict["verdict"],
  inputs: number[],
  extra: Partial<LayerVerdict> = {},
): LayerVerdict {
  return { id, name, type, legacyType: type, verdict, reason: `${type} reason`, inputs, outputShape: ["N", 8], ...extra };
}

/** data → conv (weights folded), and a PriorBox-like blocker fed by constants that reaches `out` only through a constant. */
export const SMALL = withSummary("small", "strict", [
  layer(0, "data", "Parameter", "supported", []),
  layer(1, "w", "Const", "constant", []),
  layer(2, "w/convert", "Convert", "constant", [1]),
  layer(3, "conv", "Convolution", "supported", [0, 2]),
  layer(4, "shape", "ShapeOf", "constant", [3]),
  layer(5, "prior", "PriorBox", "unsupported", [4]),
  layer(6, "prior/unsqueeze", "Unsqueeze", "constant", [5]),
  layer(7, "out", "DetectionOutput", "unsupported", [3, 6, 3]),
]);

/** SMALL, with `change` applied to a deep copy: the malformed payloads of the checks below. */
export function broken(
  change: (r: Record<string, unknown> & { layers: Record<string, unknown>[]; summary: Record<string, unknown> }) => void,
): unknown {
  const copy = JSON.parse(JSON.stringify({ ...SMALL, alternate: { ...SMALL, mode: "shape-aware" } }));
  change(copy);
  return copy;
}
