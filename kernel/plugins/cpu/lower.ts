/**
 * Lowers a prepared graph (shapes inferred at the maximum batch, constants folded) to the native
 * op set of native/OPS.md: every attribute resolved to plain numbers, weights as constant tensors.
 */
import { ConstTensor, Graph, Node, PortRef } from "../../graph/graph";
import { graphInputs, graphOutputs } from "../../graph/io";
import { attrBool, attrInts, attrNum, attrStr } from "../../graph/attrs";
import * as os from "os";
import { ModelError, UnsupportedError } from "../../errors";
import { NativeAttr, NativeOpSpec, NativeProgramSpec, NativeTensorSpec } from "./native";
import { CompileOptions, ExecutedLayer, IoBinding } from "../plugin";

export interface LoweredProgram {
  spec: NativeProgramSpec;
  inputs: IoBinding[];
  outputs: IoBinding[];
  layers: ExecutedLayer[];
}

const UNARY: Record<string, string> = {
  ReLU: "relu",
  Sigmoid: "sigmoid",
  Tanh: "tanh",
  Exp: "exp",
  Log: "log",
  Abs: "abs",
  Sqrt: "sqrt",
  Negative: "neg",
  Floor: "floor",
  Ceiling: "ceil",
  Elu: "elu",
  Clamp: "clamp",
  HSwish: "hswish",
  HSigmoid: "hsigmoid",
  HardSigmoid: "hardsigmoid",
  Swish: "swish",
  Gelu: "gelu",
  SoftPlus: "softplus",
  Mish: "mish",
};

const BINARY: Record<string, string> = {
  Add: "add",
  Subtract: "sub",
  Multiply: "mul",
  Divide: "div",
  Maximum: "max",
  Minimum: "min",
  Power: "pow",
  SquaredDifference: "sqdiff",
};

const REDUCE: Record<string, string> = {
  ReduceSum: "sum",
  ReduceMean: "mean",
  ReduceMax: "max",
  ReduceMin: "min",
  ReduceProd: "prod",
  ReduceL1: "l1",
  ReduceL2: "l2",
};

const COPY = new Set(["Reshape", "Squeeze", "Unsqueeze", "Flatten", "Convert", "Identity"]);

function portKey(ref: PortRef): string {
  return `${ref.node}:${ref.port}`;
}

function toF32(t: ConstTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Builds the program tensor table and op list while walking the graph. */
class Lowering {
  readonly tensors: NativeTensorSpec[] = [];
  readonly ops: NativeOpSpec[] = [];
  readonly layers: ExecutedLayer[] = [];
  /** "node:port" of every output some live node reads. */
  readonly usedOutputs = new Set<string>();
  private readonly ids = new Map<string, number>();
  private readonly byId: Map<number, Node>;

  constructor(
    private readonly g: Graph,
    private readonly opts: CompileOptions,
  ) {
    this.byId = new Map(g.nodes.map((n) => [n.id, n]));
  }

  node(id: number): Node {
    const n = this.byId.get(id);
    if (!n) throw new UnsupportedError(this.g.file, `dangling reference to node ${id}`);
    return n;
  }

  /** Constant value feeding input `i` of `n`, if that input is constant. */
  constOf(n: Node, i: number): ConstTensor | undefined {
    const ref = n.inputs[i];
    if (!ref) return undefined;
    const src = this.node(ref.node);
    if (src.folded) return src.folded[ref.port];
    if (src.type === "Const") return src.value;
    return undefined;
  }

  requireConst(n: Node, i: number, what: string): ConstTensor {
    const c = this.constOf(n, i);
    if (!c) throw new UnsupportedError(this.g.file, `${n.type} needs a constant ${what} (input ${i})`, n.name);
    return c;
  }

  constInts(n: Node, i: number, what: string): number[] {
    return Array.from(this.requireConst(n, i, what).data);
  }

  shapeOf(ref: PortRef): number[] {
    return this.node(ref.node).outputs[ref.port].shape;
  }

  inShape(n: Node, i: number): number[] {
    return this.shapeOf(n.inputs[i]);
  }

  isBatched(ref: PortRef): boolean {
    return this.opts.batched?.get(ref.node)?.[ref.port] ?? false;
  }

  /** Tensor id for a node output; constants become constant tensors on first use. */
  tensor(ref: PortRef): number {
    const key = portKey(ref);
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const src = this.node(ref.node);
    const c = src.folded ? src.folded[ref.port] : src.type === "Const" ? src.value : undefined;
    const id = this.tensors.length;
    this.tensors.push(
      c
        ? { shape: c.shape.length ? c.shape : [1], batched: false, data: toF32(c) }
        : { shape: src.outputs[ref.port].shape, batched: this.isBatched(ref) },
    );
    this.ids.set(key, id);
    return id;
  }

  /** A fresh constant tensor (reshaped weights, per-op parameters). */
  constTensor(shape: number[], data: Float32Array): number {
    this.tensors.push({ shape, batched: false, data });
    return this.tensors.length - 1;
  }

  out(n: Node, port = 0): number {
    return this.tensor({ node: n.id, port });
  }

  emit(n: Node, type: string, inputs: number[], outputs: number[], attrs: Record<string, NativeAttr>): void {
    this.ops.push({ type, name: n.name, inputs, outputs, attrs });
    this.layers.push({ name: n.name, type: n.type, execType: type });
  }

  lower(n: Node): void {
    const x = () => this.tensor(n.inputs[0]);
    if (COPY.has(n.type)) return this.emit(n, "copy", [x()], [this.out(n)], {});
    if (UNARY[n.type]) return this.emit(n, "unary", [x()], [this.out(n)], this.unaryAttrs(n));
    if (BINARY[n.type])
      return this.emit(n, "binary", [x(), this.tensor(n.inputs[1])], [this.out(n)], { op: BINARY[n.type] });
    if (REDUCE[n.type]) {
      const rank = this.inShape(n, 0).length;
      const axes = [...new Set(this.constInts(n, 1, "axes").map((a) => normAxis(a, rank)))].sort((a, b) => a - b);
      return this.emit(n, "reduce", [x()], [this.out(n)], {
        op: REDUCE[n.type],
        axes,
        keepDims: attrBool(n.attrs, "keep_dims", false) ? 1 : 0,
      });
    }
    switch (n.type) {
      case "Convolution":
      case "GroupConvolution":
        return this.conv(n);
      case "ConvolutionBackpropData":
      case "GroupConvolutionBackpropData":
        return this.deconv(n);
      case "MaxPool":
      case "AvgPool":
        return this.pool(n);
      case "MatMul":
        // The graph follows the spec (a 1-D operand is unsqueezed, the added axis dropped), but the
        // CPU and GPU kernels take operands of rank >= 2 only: refuse it here, not in oneDNN (NATIVE).
        if (this.inShape(n, 0).length < 2 || this.inShape(n, 1).length < 2)
          throw new UnsupportedError(
            this.g.file,
            `MatMul with a 1-D operand is not implemented ([${this.inShape(n, 0)}] x [${this.inShape(n, 1)}])`,
            n.name,
          );
        return this.emit(n, "matmul", [x(), this.tensor(n.inputs[1])], [this.out(n)], {
          transposeA: attrBool(n.attrs, "transpose_a", false) ? 1 : 0,
          transposeB: attrBool(n.attrs, "transpose_b", false) ? 1 : 0,
        });
      case "PReLU":
        return this.emit(n, "prelu", [x(), this.tensor(n.inputs[1])], [this.out(n)], {});
      case "SoftMax":
      case "LogSoftmax":
        return this.emit(n, "softmax", [x()], [this.out(n)], {
          axis: normAxis(attrNum(n.attrs, "axis", 1), this.inShape(n, 0).length),
          log: n.type === "LogSoftmax" ? 1 : 0,
        });
      case "LRN":
        return this.lrn(n);
      case "BatchNormInference":
        return this.batchNorm(n);
      case "Transpose": {
        const rank = this.inShape(n, 0).length;
        const perm = this.constInts(n, 1, "permutation");
        const resolved = perm.length ? perm : [...Array(rank).keys()].reverse();
        return this.emit(n, "transpose", [x()], [this.out(n)], { perm: resolved });
      }
      case "Concat":
        return this.emit(
          n,
          "concat",
          n.inputs.map((r) => this.tensor(r)),
          [this.out(n)],
          { axis: normAxis(attrNum(n.attrs, "axis"), this.inShape(n, 0).length) },
        );
      case "Split":
      case "VariadicSplit":
        return this.emit(
          n,
          "split",
          [x()],
          n.outputs.map((_, i) => this.out(n, i)),
          { axis: normAxis(this.constInts(n, 1, "axis")[0], this.inShape(n, 0).length) },
        );
      case "Gather":
        return this.gather(n);
      case "StridedSlice":
        return this.stridedSlice(n);
      case "Slice":
        return this.slice(n);
      case "Pad":
        return this.pad(n);
      case "Interpolate":
        return this.interpolate(n);
      case "DetectionOutput":
        return this.detectionOutput(n);
      default:
        throw new UnsupportedError(this.g.file, `operation ${n.type} has no CPU implementation`, n.name);
    }
  }

  unaryAttrs(n: Node): Record<string, NativeAttr> {
    const op = UNARY[n.type];
    const a: Record<string, NativeAttr> = { op };
    if (n.type === "Elu") a.alpha = attrNum(n.attrs, "alpha");
    if (n.type === "Clamp") {
      a.min = attrNum(n.attrs, "min");
      a.max = attrNum(n.attrs, "max");
    }
    if (n.type === "HardSigmoid") {
      a.alpha = this.requireConst(n, 1, "alpha").data[0];
      a.beta = this.requireConst(n, 2, "beta").data[0];
    }
    if (n.type === "Swish") a.beta = n.inputs.length > 1 ? this.requireConst(n, 1, "beta").data[0] : 1;
    if (n.type === "Gelu") a.approximation = attrStr(n.attrs, "approximation_mode", "erf").toLowerCase();
    return a;
  }

  /** Explicit pads for one spatial axis, honouring auto_pad like the Inference Engine. */
  pads(n: Node, inSpatial: number[], outSpatial: number[], kernel: number[], strides: number[], dil: number[]) {
    const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
    const rank = inSpatial.length;
    let begin = attrInts(n.attrs, "pads_begin", Array(rank).fill(0));
    let end = attrInts(n.attrs, "pads_end", Array(rank).fill(0));
    if (autoPad === "valid") {
      begin = Array(rank).fill(0);
      end = Array(rank).fill(0);
    } else if (autoPad === "same_upper" || autoPad === "same_lower") {
      begin = [];
      end = [];
      for (let i = 0; i < rank; i++) {
        const span = (kernel[i] - 1) * dil[i] + 1;
        const total = Math.max((outSpatial[i] - 1) * strides[i] + span - inSpatial[i], 0);
        const small = Math.floor(total / 2);
        begin.push(autoPad === "same_upper" ? small : total - small);
        end.push(autoPad === "same_upper" ? total - small : small);
      }
    }
    return { begin, end };
  }

  conv(n: Node): void {
    const xs = this.inShape(n, 0);
    if (xs.length !== 4) throw new UnsupportedError(this.g.file, `only 2-D convolution is implemented (input rank ${xs.length})`, n.name);
    const w = this.requireConst(n, 1, "weights");
    let group = 1;
    let wShape = w.shape;
    if (n.type === "GroupConvolution") {
      group = w.shape[0];
      wShape = [w.shape[0] * w.shape[1], ...w.shape.slice(2)];
    }
    const kernel = wShape.slice(2);
    const strides = attrInts(n.attrs, "strides");
    const dil = attrInts(n.attrs, "dilations", [1, 1]);
    const { begin, end } = this.pads(n, xs.slice(2), n.outputs[0].shape.slice(2), kernel, strides, dil);
    const wt = this.constTensor(wShape, toF32(w));
    this.emit(n, "conv", [this.tensor(n.inputs[0]), wt], [this.out(n)], {
      strides,
      dilations: dil,
      padsBegin: begin,
      padsEnd: end,
      group,
    });
  }

  deconv(n: Node): void {
    const xs = this.inShape(n, 0);
    if (xs.length !== 4) throw new UnsupportedError(this.g.file, `only 2-D deconvolution is implemented`, n.name);
    const w = this.requireConst(n, 1, "weights");
    let group = 1;
    let wShape = w.shape;
    if (n.type === "GroupConvolutionBackpropData") {
      group = w.shape[0];
      wShape = [w.shape[0] * w.shape[1], ...w.shape.slice(2)];
    }
    const kernel = wShape.slice(2);
    const strides = attrInts(n.attrs, "strides");
    const dil = attrInts(n.attrs, "dilations", [1, 1]);
    const outSp = n.outputs[0].shape.slice(2);
    // Deconvolution pads come from the relation out = s·(in−1) + span − pb − pe.
    // With auto_pad or an explicit output_shape input the pads split the total like same_upper/lower.
    const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
    const derived = autoPad === "same_upper" || autoPad === "same_lower" || n.inputs.length > 2;
    const explicitBegin = attrInts(n.attrs, "pads_begin", [0, 0]);
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < 2; i++) {
      const span = (kernel[i] - 1) * dil[i] + 1;
      const total = strides[i] * (xs[2 + i] - 1) + span - outSp[i];
      const small = Math.floor(total / 2);
      begin.push(derived ? (autoPad === "same_lower" ? total - small : small) : explicitBegin[i]);
      end.push(total - begin[i]);
    }
    const wt = this.constTensor(wShape, toF32(w));
    this.emit(n, "deconv", [this.tensor(n.inputs[0]), wt], [this.out(n)], {
      strides,
      dilations: dil,
      padsBegin: begin,
      padsEnd: end,
      group,
    });
  }

  pool(n: Node): void {
    const xs = this.inShape(n, 0);
    if (xs.length !== 4) throw new UnsupportedError(this.g.file, `only 2-D pooling is implemented`, n.name);
    if (this.usedOutputs.has(`${n.id}:1`))
      throw new UnsupportedError(this.g.file, "MaxPool indices output is not implemented", n.name);
    const kernel = attrInts(n.attrs, "kernel");
    const strides = attrInts(n.attrs, "strides");
    const dil = attrInts(n.attrs, "dilations", [1, 1]);
    const outSp = n.outputs[0].shape.slice(2);
    const { begin: explicitBegin, end } = this.pads(n, xs.slice(2), outSp, kernel, strides, dil);
    let begin = explicitBegin;
    // Ceil rounding (and any shape the model states) becomes extra padding at the end.
    let padsEnd = end.map((e, i) =>
      Math.max(e, (outSp[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - xs[2 + i] - begin[i]),
    );
    let x = this.tensor(n.inputs[0]);
    let excludePad = attrBool(n.attrs, "exclude-pad", false);
    // An average counts the model's pads but never the ceil extension beyond them, while oneDNN's
    // include_padding counts every padded element: pad explicitly with zeros, then exclude the rest.
    if (n.type === "AvgPool" && !excludePad && padsEnd.some((p, i) => p > end[i])) {
      if ([...begin, ...end].some((p) => p > 0)) {
        const padded = this.tensors.length;
        const shape = [xs[0], xs[1], ...xs.slice(2).map((d, i) => d + begin[i] + end[i])];
        this.tensors.push({ shape, batched: this.isBatched(n.inputs[0]) });
        this.emit({ ...n, name: `${n.name}/pad` }, "pad", [x], [padded], {
          padsBegin: [0, 0, ...begin],
          padsEnd: [0, 0, ...end],
          mode: "constant",
          value: 0,
        });
        x = padded;
        padsEnd = padsEnd.map((p, i) => p - end[i]);
        begin = begin.map(() => 0);
      }
      excludePad = true;
    }
    this.emit(n, "pool", [x], [this.out(n)], {
      kind: n.type === "MaxPool" ? "max" : "avg",
      kernel,
      strides,
      dilations: dil,
      padsBegin: begin,
      padsEnd,
      excludePad: excludePad ? 1 : 0,
    });
  }

  lrn(n: Node): void {
    const rank = this.inShape(n, 0).length;
    const axes = this.constInts(n, 1, "axes").map((a) => normAxis(a, rank));
    const across = axes.length === 1 && axes[0] === 1;
    this.emit(n, "lrn", [this.tensor(n.inputs[0])], [this.out(n)], {
      alpha: attrNum(n.attrs, "alpha"),
      beta: attrNum(n.attrs, "beta"),
      bias: attrNum(n.attrs, "bias", 1),
      size: attrNum(n.attrs, "size"),
      region: across ? "across" : "within",
    });
  }

  batchNorm(n: Node): void {
    // opset1 took (gamma, beta, data, mean, variance); opset5 moved data first.
    const order = n.version === "opset1" ? [2, 0, 1, 3, 4] : [0, 1, 2, 3, 4];
    const [data, gamma, beta, mean, variance] = order.map((i) => n.inputs[i]);
    this.emit(
      n,
      "batchnorm",
      [data, gamma, beta, mean, variance].map((r) => this.tensor(r)),
      [this.out(n)],
      { epsilon: attrNum(n.attrs, "epsilon") },
    );
  }

  gather(n: Node): void {
    const xs = this.inShape(n, 0);
    const idx = this.requireConst(n, 1, "indices");
    const axis = normAxis(this.constInts(n, 2, "axis")[0], xs.length);
    if (attrNum(n.attrs, "batch_dims", 0) !== 0)
      throw new UnsupportedError(this.g.file, "Gather with batch_dims is not implemented", n.name);
    const indices = Array.from(idx.data, (v) => (v < 0 ? v + xs[axis] : v));
    this.emit(n, "gather", [this.tensor(n.inputs[0])], [this.out(n)], {
      axis,
      indices,
      indicesShape: idx.shape,
    });
  }

  stridedSlice(n: Node): void {
    const xs = this.inShape(n, 0);
    const masks = ["new_axis_mask", "shrink_axis_mask", "ellipsis_mask"].map((k) => attrInts(n.attrs, k, []));
    if (masks.some((m) => m.some((v) => v !== 0)))
      throw new UnsupportedError(this.g.file, "StridedSlice with new/shrink/ellipsis masks on data is not implemented", n.name);
    // The element count per axis is already in the inferred output shape: only starts and steps matter.
    const b = this.constInts(n, 1, "begin");
    const s = n.inputs.length > 3 ? this.constInts(n, 3, "strides") : b.map(() => 1);
    const bm = attrInts(n.attrs, "begin_mask", []);
    const starts: number[] = [];
    const steps: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      const step = i < s.length ? s[i] : 1;
      const dim = xs[i];
      let start: number;
      if (i >= b.length || bm[i] === 1) start = step > 0 ? 0 : dim - 1;
      else start = clampIndex(b[i], dim, step);
      starts.push(start);
      steps.push(step);
    }
    this.emit(n, "slice", [this.tensor(n.inputs[0])], [this.out(n)], { begin: starts, step: steps });
  }

  slice(n: Node): void {
    const xs = this.inShape(n, 0);
    const start = this.constInts(n, 1, "start");
    const step = this.constInts(n, 3, "step");
    const axes = n.inputs.length > 4 ? this.constInts(n, 4, "axes").map((a) => normAxis(a, xs.length)) : start.map((_, i) => i);
    const starts = xs.map(() => 0);
    const steps = xs.map(() => 1);
    axes.forEach((ax, i) => {
      steps[ax] = step[i];
      starts[ax] = clampIndex(start[i], xs[ax], step[i]);
    });
    this.emit(n, "slice", [this.tensor(n.inputs[0])], [this.out(n)], { begin: starts, step: steps });
  }

  pad(n: Node): void {
    const padsBegin = this.constInts(n, 1, "pads_begin");
    const padsEnd = this.constInts(n, 2, "pads_end");
    const value = n.inputs.length > 3 ? this.requireConst(n, 3, "pad value").data[0] : 0;
    this.emit(n, "pad", [this.tensor(n.inputs[0])], [this.out(n)], {
      padsBegin,
      padsEnd,
      mode: attrStr(n.attrs, "pad_mode", "constant").toLowerCase(),
      value,
    });
  }

  interpolate(n: Node): void {
    const xs = this.inShape(n, 0);
    const ys = n.outputs[0].shape;
    const modeRaw = attrStr(n.attrs, "mode").toLowerCase();
    const mode = modeRaw === "nearest" ? "nearest" : modeRaw.startsWith("linear") || modeRaw === "bilinear" ? "linear" : "";
    if (!mode) throw new UnsupportedError(this.g.file, `Interpolate mode '${modeRaw}' is not implemented`, n.name);
    const scales = xs.map((d, i) => ys[i] / d);
    const useScales = attrStr(n.attrs, "shape_calculation_mode", "sizes").toLowerCase() === "scales";
    if (useScales && n.inputs.length > 2) {
      const given = this.requireConst(n, 2, "scales").data;
      const axes = n.inputs.length > 3 ? this.constInts(n, 3, "axes") : xs.map((_, i) => i);
      axes.forEach((ax, i) => (scales[normAxis(ax, xs.length)] = given[i]));
    }
    const alignCorners = attrBool(n.attrs, "align_corners", false);
    const coord = n.attrs.coordinate_transformation_mode ?? (alignCorners ? "align_corners" : mode === "nearest" ? "asymmetric" : "half_pixel");
    this.emit(n, "interpolate", [this.tensor(n.inputs[0])], [this.out(n)], {
      mode,
      coord: coord.toLowerCase(),
      // Interpolate-1 had no nearest_mode and floored; Interpolate-4 defaults to round_prefer_floor.
      nearest: attrStr(n.attrs, "nearest_mode", n.version === "opset1" ? "floor" : "round_prefer_floor").toLowerCase(),
      scales,
    });
  }

  detectionOutput(n: Node): void {
    if (n.inputs.length > 3)
      throw new UnsupportedError(this.g.file, "DetectionOutput with ARM inputs is not implemented", n.name);
    const a = n.attrs;
    const priors = this.inShape(n, 2);
    // Normalized priors are 4 numbers each; non-normalized ones carry a leading batch index too.
    const numPriors = priors[priors.length - 1] / (attrBool(a, "normalized", false) ? 4 : 5);
    const conf = this.inShape(n, 1);
    const numClasses = a.num_classes !== undefined ? attrNum(a, "num_classes") : conf[conf.length - 1] / numPriors;
    this.emit(n, "detection_output", n.inputs.slice(0, 3).map((r) => this.tensor(r)), [this.out(n)], {
      numClasses,
      backgroundLabelId: attrNum(a, "background_label_id", 0),
      topK: attrNum(a, "top_k", -1),
      keepTopK: attrInts(a, "keep_top_k"),
      nmsThreshold: attrNum(a, "nms_threshold"),
      confidenceThreshold: attrNum(a, "confidence_threshold", 0),
      shareLocation: attrBool(a, "share_location", true) ? 1 : 0,
      varianceEncodedInTarget: attrBool(a, "variance_encoded_in_target", false) ? 1 : 0,
      codeType: attrStr(a, "code_type", "caffe.PriorBoxParameter.CORNER"),
      normalized: attrBool(a, "normalized", false) ? 1 : 0,
      clipBeforeNms: attrBool(a, "clip_before_nms", false) ? 1 : 0,
      clipAfterNms: attrBool(a, "clip_after_nms", false) ? 1 : 0,
      decreaseLabelId: attrBool(a, "decrease_label_id", false) ? 1 : 0,
      inputHeight: attrNum(a, "input_height", 1),
      inputWidth: attrNum(a, "input_width", 1),
      objectnessScore: attrNum(a, "objectness_score", 0),
    });
  }
}

function clampIndex(v: number, dim: number, step: number): number {
  const idx = v < 0 ? v + dim : v;
  return step > 0 ? Math.min(Math.max(idx, 0), dim) : Math.min(Math.max(idx, -1), dim - 1);
}

/** Nodes that contribute to a Result, excluding constants. */
function liveNodes(g: Graph): Set<number> {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const live = new Set<number>();
  const stack = g.nodes.filter((n) => n.type === "Result").map((n) => n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    const n = byId.get(id)!;
    if (n.folded || n.type === "Const") continue;
    for (const r of n.inputs) stack.push(r.node);
  }
  return live;
}

/** Refuses networks whose activations cannot fit in memory, before the native side tries. */
function checkMemory(g: Graph, tensors: NativeTensorSpec[]): void {
  let floats = 0;
  for (const t of tensors) {
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new ModelError(g.file, `tensor shape [${t.shape}] is not static; reshape the network first`);
    floats += t.shape.reduce((a, d) => a * d, 1);
  }
  const bytes = floats * 4;
  if (bytes > MAX_PROGRAM_BYTES)
    throw new ModelError(g.file, `the network needs ${(bytes / 2 ** 30).toFixed(1)} GiB of tensors at this batch (limit ${MAX_PROGRAM_BYTES / 2 ** 30} GiB)`);
}

/** Largest tensor memory one request may ask for: half the machine, at most 16 GiB. */
const MAX_PROGRAM_BYTES = Math.min(16 * 2 ** 30, Math.floor(os.totalmem() / 2 / 2 ** 30) * 2 ** 30);

export function lowerGraph(g: Graph, opts: CompileOptions): LoweredProgram {
  const L = new Lowering(g, opts);
  const live = liveNodes(g);
  for (const n of g.nodes) for (const r of n.inputs) if (live.has(n.id)) L.usedOutputs.add(portKey(r));

  const inputs: IoBinding[] = graphInputs(g).map((io) => ({
    name: io.name,
    aliases: io.aliases,
    shape: L.shapeOf(io.ref),
    batched: L.isBatched(io.ref),
    tensor: L.tensor(io.ref),
  }));
  for (const n of g.nodes) {
    if (!live.has(n.id) || n.type === "Parameter" || n.type === "Const" || n.folded || n.type === "Result") continue;
    L.lower(n);
  }
  const outputs: IoBinding[] = graphOutputs(g).map((io) => {
    let t = L.tensor(io.ref);
    // A constant or an input that is also an output gets its own buffer so users can read it.
    if (L.tensors[t].data || inputs.some((i) => i.tensor === t)) {
      const copy = L.tensors.length;
      L.tensors.push({ shape: L.tensors[t].shape, batched: L.tensors[t].batched });
      const src = L.node(io.ref.node);
      L.emit({ ...src, name: `${src.name}/output_copy` }, "copy", [t], [copy], {});
      t = copy;
    }
    return { name: io.name, aliases: io.aliases, shape: L.shapeOf(io.ref), batched: L.isBatched(io.ref), tensor: t };
  });
  checkMemory(g, L.tensors);
  return {
    spec: {
      maxBatch: opts.maxBatch,
      threads: opts.threads,
      independentSamples: opts.independentSamples,
      parallel: opts.parallel,
      tensors: L.tensors,
      ops: L.ops,
      inputs: inputs.map((i) => i.tensor),
      outputs: outputs.map((o) => o.tensor),
    },
    inputs,
    outputs,
    layers: L.layers,
  };
}
