/**
 * Benchmark models with random weights, built as opset graphs and written as ONNX with a
 * symbolic batch axis: a conv-heavy classifier (ResNet-18-shaped) and a depthwise one
 * (MobileNetV2-shaped), so the kernels are measured and not only the per-call overheads.
 * Weights come from a fixed seed: the same file on every machine.
 */
import * as fs from "fs";
import * as path from "path";
import { NotFoundError } from "../errors";
import { ConstTensor, DType, Graph, Node, PortRef } from "../graph/graph";
import { prepare } from "../graph/prepare";
import { graphToONNX } from "../serialize/onnx";
import { uniform } from "../random";

/** Bump when a generated model changes, so cached files are rebuilt. */
const VERSION = 1;

/** Builds opset graphs with He-uniform random weights from a xorshift32 seed. */
class NetBuilder {
  private readonly nodes: Node[] = [];
  private readonly random: () => number;
  private count = 0;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    this.random = uniform(seed);
  }

  private add(type: string, inputs: PortRef[], attrs: Record<string, string> = {}, value?: ConstTensor, name?: string): PortRef {
    const id = this.nodes.length;
    const dtype: DType = value?.dtype ?? "f32";
    this.nodes.push({
      id,
      name: name ?? `${type.toLowerCase()}_${this.count++}`,
      type,
      version: "opset1",
      attrs,
      inputs,
      outputs: type === "Result" ? [] : [{ names: [], dtype, shape: value ? [...value.shape] : [] }],
      value,
    });
    return { node: id, port: 0 };
  }

  input(name: string, shape: number[]): PortRef {
    const ref = this.add("Parameter", [], { shape: shape.join(","), element_type: "f32" }, undefined, name);
    this.nodes[ref.node].outputs[0].shape = [...shape];
    return ref;
  }

  private constant(shape: number[], values: (i: number) => number, dtype: DType = "f32"): PortRef {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = values(i);
    return this.add("Const", [], { element_type: dtype, shape: shape.join(",") }, { dtype, shape, data });
  }

  private uniform(shape: number[], bound: number): PortRef {
    return this.constant(shape, () => (2 * this.random() - 1) * bound);
  }

  /** Convolution (group 1, or depthwise when group = cin) with a bias, as exporters write it. */
  conv(x: PortRef, cin: number, cout: number, k: number, stride: number, group = 1): PortRef {
    const pad = String((k - 1) >> 1);
    const attrs = {
      strides: `${stride},${stride}`,
      dilations: "1,1",
      pads_begin: `${pad},${pad}`,
      pads_end: `${pad},${pad}`,
      auto_pad: "explicit",
    };
    const fanIn = (cin / group) * k * k;
    const bound = Math.sqrt(6 / fanIn);
    const y =
      group === 1
        ? this.add("Convolution", [x, this.uniform([cout, cin, k, k], bound)], attrs)
        : this.add("GroupConvolution", [x, this.uniform([group, cout / group, cin / group, k, k], bound)], attrs);
    return this.add("Add", [y, this.uniform([1, cout, 1, 1], 0.01)], { auto_broadcast: "numpy" });
  }

  relu(x: PortRef): PortRef {
    return this.add("ReLU", [x]);
  }

  relu6(x: PortRef): PortRef {
    return this.add("Clamp", [x], { min: "0", max: "6" });
  }

  sum(a: PortRef, b: PortRef): PortRef {
    return this.add("Add", [a, b], { auto_broadcast: "numpy" });
  }

  maxPool(x: PortRef, k: number, stride: number, pad: number): PortRef {
    return this.add("MaxPool", [x], {
      kernel: `${k},${k}`,
      strides: `${stride},${stride}`,
      pads_begin: `${pad},${pad}`,
      pads_end: `${pad},${pad}`,
      rounding_type: "floor",
      auto_pad: "explicit",
    });
  }

  /** Global average pooling, flatten and a fully connected layer: the classifier head. */
  head(x: PortRef, channels: number, classes: number): PortRef {
    const pooled = this.add("ReduceMean", [x, this.constant([2], (i) => i + 2, "i64")], { keep_dims: "true" });
    const flat = this.add("Reshape", [pooled, this.constant([2], (i) => [-1, channels][i], "i64")], { special_zero: "false" });
    const fc = this.add("MatMul", [flat, this.uniform([classes, channels], Math.sqrt(6 / channels))], {
      transpose_a: "false",
      transpose_b: "true",
    });
    const logits = this.add("Add", [fc, this.uniform([1, classes], 0.01)], { auto_broadcast: "numpy" }, undefined, "logits");
    this.add("Result", [logits], {}, undefined, "logits/sink_port_0");
    return logits;
  }

  build(): Graph {
    return { name: this.name, file: `${this.name}.onnx`, format: "onnx", nodes: this.nodes };
  }
}

/** ResNet-18 (He et al. 2015) at 224×224 with 1000 classes: basic blocks [2, 2, 2, 2], 1.8 GMAC per sample. */
export function resnet18Graph(seed = 18): Graph {
  const b = new NetBuilder("resnet18-shaped", seed);
  let x = b.relu(b.conv(b.input("input", [1, 3, 224, 224]), 3, 64, 7, 2));
  x = b.maxPool(x, 3, 2, 1);
  let cin = 64;
  for (const [i, cout] of [64, 128, 256, 512].entries()) {
    for (let block = 0; block < 2; block++) {
      const stride = i > 0 && block === 0 ? 2 : 1;
      const y = b.conv(b.relu(b.conv(x, cin, cout, 3, stride)), cout, cout, 3, 1);
      const shortcut = stride !== 1 || cin !== cout ? b.conv(x, cin, cout, 1, stride) : x;
      x = b.relu(b.sum(y, shortcut));
      cin = cout;
    }
  }
  b.head(x, 512, 1000);
  return b.build();
}

/** MobileNetV2 (Sandler et al. 2018) at 224×224, width 1.0: inverted residuals with depthwise 3×3, 0.3 GMAC per sample. */
export function mobilenetV2Graph(seed = 2): Graph {
  const b = new NetBuilder("mobilenetv2-shaped", seed);
  let x = b.relu6(b.conv(b.input("input", [1, 3, 224, 224]), 3, 32, 3, 2));
  let cin = 32;
  // (expansion t, output channels c, repeats n, first stride s)
  const settings = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = cin * t;
      const expanded = t === 1 ? x : b.relu6(b.conv(x, cin, hidden, 1, 1));
      const dw = b.relu6(b.conv(expanded, hidden, hidden, 3, stride, hidden));
      const y = b.conv(dw, hidden, c, 1, 1);
      x = stride === 1 && cin === c ? b.sum(x, y) : y;
      cin = c;
    }
  }
  x = b.relu6(b.conv(x, cin, 1280, 1, 1));
  b.head(x, 1280, 1000);
  return b.build();
}

/** The generated models by name. */
export const GENERATED_MODELS: Record<string, () => Graph> = {
  "resnet18-shaped": () => resnet18Graph(),
  "mobilenetv2-shaped": () => mobilenetV2Graph(),
};

/** Default cache of generated models: `.cache/bench` in the repository (never committed). */
export const DEFAULT_CACHE = path.resolve(__dirname, "../../../.cache/bench");

/**
 * Path of a generated model as ONNX with a symbolic batch "N", written on first use into `dir`.
 * Throws NotFoundError for an unknown name.
 */
export function generatedModelPath(name: string, dir = DEFAULT_CACHE): string {
  const build = GENERATED_MODELS[name];
  if (!build) throw new NotFoundError(`unknown generated model '${name}'; known: ${Object.keys(GENERATED_MODELS).join(", ")}`);
  const file = path.join(dir, `${name}-v${VERSION}.onnx`);
  if (fs.existsSync(file)) return file;
  const g = build();
  // Prepared at two batches, the writer sees which axis is the batch and writes it as "N".
  const bytes = graphToONNX(prepare(g, { batch: 1 }), prepare(g, { batch: 2 }));
  fs.mkdirSync(dir, { recursive: true });
  // Write then rename, so a concurrent reader never sees a partial file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
  return file;
}
