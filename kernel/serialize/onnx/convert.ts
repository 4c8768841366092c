/** Opset op type → converter; ops with no ONNX form say why. */
import { attrBool, attrNum, attrStr } from "../../graph/attrs";
import { isFloat } from "../../graph/ops/util";
import { batchNormDataIndex } from "../../graph/ops/normalization";
import { table } from "../../dict";
import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_OPS, inverse } from "../../readers/onnx/op_table";
import { Converter, ONNX_TYPE, WriteCtx, asI64, attr } from "./context";
import { gelu, matmul, reduce } from "./ops_math";
import { interpolate, pad, split, stridedSlice } from "./ops_shape";
import { conv, convTranspose, pool } from "./ops_window";
import { fakeQuantize } from "./ops_quantize";

const UNARY: Record<string, string> = table({
  ...inverse(UNARY_OPS),
  // The reader does not take ONNX Softsign (it never did); the opset op has the same meaning.
  SoftSign: "Softsign",
  // The reader drops ONNX Identity (a pass-through), but a graph read from IR may hold one.
  Identity: "Identity",
});

const BINARY: Record<string, string> = table({ ...inverse(BINARY_OPS), ...inverse(COMPARE_OPS) });

const REDUCE = inverse(REDUCE_OPS);

function checkBroadcast(c: WriteCtx): void {
  const b = attrStr(c.n.attrs, "auto_broadcast", "numpy").toLowerCase();
  if (b !== "numpy" && b !== "none") throw c.unsupported(`auto_broadcast '${b}' is not supported`);
}

export const CONVERTERS: Record<string, Converter> = table({
  Convolution: conv,
  GroupConvolution: conv,
  ConvolutionBackpropData: convTranspose,
  GroupConvolutionBackpropData: convTranspose,
  MaxPool: pool,
  AvgPool: pool,
  MatMul: matmul,
  FakeQuantize: fakeQuantize,
  Gelu: gelu,
  SquaredDifference: (c) => {
    const d = c.step("Sub", [c.in(0), c.in(1)], "diff");
    c.emit("Mul", [d, d]);
  },
  NotEqual: (c) => c.emit("Not", [c.step("Equal", [c.in(0), c.in(1)], "equal")]),
  Mod: (c) => c.emit("Mod", [c.in(0), c.in(1)], [attr.int("fmod", 1)]),
  FloorMod: (c) => {
    if (isFloat(c.dtype(0))) throw c.unsupported("floating-point FloorMod has no ONNX equivalent");
    c.emit("Mod", [c.in(0), c.in(1)], [attr.int("fmod", 0)]);
  },
  Select: (c) => c.emit("Where", [c.in(0), c.in(1), c.in(2)]),
  Elu: (c) => c.emit("Elu", [c.in(0)], [attr.float("alpha", attrNum(c.n.attrs, "alpha"))]),
  Clamp: (c) => {
    const t = c.dtype(0) === "f16" ? "f32" : c.dtype(0);
    c.emit("Clip", [c.in(0), c.scalar("min", attrNum(c.n.attrs, "min"), t), c.scalar("max", attrNum(c.n.attrs, "max"), t)]);
  },
  HSigmoid: (c) => c.emit("HardSigmoid", [c.in(0)], [attr.float("alpha", 1 / 6), attr.float("beta", 0.5)]),
  HardSigmoid: (c) => {
    const [alpha] = c.values(1, "alpha");
    const [beta] = c.values(2, "beta");
    c.emit("HardSigmoid", [c.in(0)], [attr.float("alpha", alpha), attr.float("beta", beta)]);
  },
  Selu: (c) => {
    const [alpha] = c.values(1, "alpha");
    const [lambda] = c.values(2, "lambda");
    c.emit("Selu", [c.in(0)], [attr.float("alpha", alpha), attr.float("gamma", lambda)]);
  },
  Swish: (c) => {
    const beta = c.n.inputs.length > 1 ? c.values(1, "beta")[0] : 1;
    const x = c.in(0);
    const arg = beta === 1 ? x : c.step("Mul", [x, c.scalar("beta", beta)], "beta_x");
    c.emit("Mul", [x, c.step("Sigmoid", [arg], "sigmoid")]);
  },
  PReLU: (c) => {
    const xs = c.shape(0);
    const ss = c.shape(1);
    // A 1-D slope of C values applies along axis 1, which ONNX's right-aligned broadcast needs spelled out.
    const perChannel = ss.length === 1 && xs.length > 2 && ss[0] === xs[1] && ss[0] !== 1;
    if (!perChannel) {
      c.emit("PRelu", [c.in(0), c.in(1)]);
      return;
    }
    const target = [ss[0], ...new Array<number>(xs.length - 2).fill(1)];
    const v = c.c(1);
    const slope = v
      ? c.w.constant(`${c.n.name}/slope`, { ...v, shape: target })
      : c.step("Reshape", [c.in(1), c.i64("slope_shape", target)], "slope");
    c.emit("PRelu", [c.in(0), slope]);
  },
  SoftMax: (c) => c.emit("Softmax", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  Softmax: (c) => c.emit("Softmax", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  LogSoftmax: (c) => c.emit("LogSoftmax", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  BatchNormInference: (c) => {
    const d = batchNormDataIndex({ node: c.n, shapes: c.n.inputs.map((_, i) => c.shape(i)) });
    const params = [0, 1, 2, 3, 4].filter((i) => i !== d).map((i) => c.in(i));
    c.emit("BatchNormalization", [c.in(d), ...params], [attr.float("epsilon", attrNum(c.n.attrs, "epsilon"))]);
  },
  LRN: (c) => {
    const axes = c.values(1, "axes");
    if (axes.length !== 1 || axes[0] !== 1)
      throw c.unsupported(`only LRN across channels (axes [1]) is supported, got [${axes}]`);
    const a = c.n.attrs;
    c.emit(
      "LRN",
      [c.in(0)],
      [
        attr.float("alpha", attrNum(a, "alpha")),
        attr.float("beta", attrNum(a, "beta")),
        attr.float("bias", attrNum(a, "bias", 1)),
        attr.int("size", attrNum(a, "size")),
      ],
    );
  },
  Concat: (c) =>
    c.emit(
      "Concat",
      c.n.inputs.map((_, i) => c.in(i)),
      [attr.int("axis", attrNum(c.n.attrs, "axis"))],
    ),
  Split: (c) => split(c),
  VariadicSplit: (c) => split(c),
  Reshape: (c) => {
    const target = c.c(1);
    const allowZero = !attrBool(c.n.attrs, "special_zero", false) && (!target || Array.from(target.data).includes(0));
    const shape = target ? c.i64("shape", Array.from(target.data)) : asI64(c, 1, "shape");
    c.emit("Reshape", [c.in(0), shape], allowZero ? [attr.int("allowzero", 1)] : []);
  },
  Flatten: (c) => c.emit("Flatten", [c.in(0)], [attr.int("axis", attrNum(c.n.attrs, "axis", 1))]),
  Squeeze: (c) => c.emit("Squeeze", c.n.inputs.length > 1 ? [c.in(0), asI64(c, 1, "axes")] : [c.in(0)]),
  Unsqueeze: (c) => c.emit("Unsqueeze", [c.in(0), asI64(c, 1, "axes")]),
  Transpose: (c) => {
    const rank = c.shape(0).length;
    const perm = c.values(1, "perm");
    // An empty permutation reverses the axes.
    c.emit(
      "Transpose",
      [c.in(0)],
      [attr.ints("perm", perm.length ? perm : Array.from({ length: rank }, (_, i) => rank - 1 - i))],
    );
  },
  Gather: (c) => {
    if (attrNum(c.n.attrs, "batch_dims", 0) !== 0) throw c.unsupported("batch_dims ≠ 0 is not supported");
    c.emit("Gather", [c.in(0), c.in(1)], [attr.int("axis", c.values(2, "axis")[0])]);
  },
  StridedSlice: stridedSlice,
  Slice: (c) => {
    // Slice-8 ports are (data, start, stop, step[, axes]); ONNX's are (data, starts, ends, axes, steps).
    const axes =
      c.n.inputs.length > 4
        ? asI64(c, 4, "axes")
        : c.i64(
            "axes",
            Array.from({ length: c.shape(1)[0] }, (_, i) => i),
          );
    c.emit("Slice", [c.in(0), asI64(c, 1, "starts"), asI64(c, 2, "ends"), axes, asI64(c, 3, "steps")]);
  },
  Pad: pad,
  Interpolate: interpolate,
  Convert: (c) => c.emit("Cast", [c.in(0)], [attr.int("to", ONNX_TYPE[c.n.outputs[0].dtype])]),
  ConvertLike: (c) => c.emit("Cast", [c.in(0)], [attr.int("to", ONNX_TYPE[c.dtype(1)])]),
  ShapeOf: (c) => {
    if (c.n.outputs[0].dtype === "i64") c.emit("Shape", [c.in(0)]);
    else c.emit("Cast", [c.step("Shape", [c.in(0)], "shape")], [attr.int("to", ONNX_TYPE[c.n.outputs[0].dtype])]);
  },
  Broadcast: (c) => {
    const mode = attrStr(c.n.attrs, "mode", "numpy").toLowerCase();
    if (mode !== "numpy" && mode !== "bidirectional") throw c.unsupported(`mode '${mode}' is not supported`);
    c.emit("Expand", [c.in(0), asI64(c, 1, "shape")]);
  },
  Tile: (c) => {
    const reps = c.values(1, "repeats");
    const rank = c.shape(0).length;
    if (reps.length !== rank) throw c.unsupported(`repeats [${reps}] must have one value per axis of the data (rank ${rank})`);
    c.emit("Tile", [c.in(0), c.i64("repeats", reps)]);
  },
  DepthToSpace: (c) => {
    const mode = attrStr(c.n.attrs, "mode").toLowerCase() === "depth_first" ? "CRD" : "DCR";
    c.emit("DepthToSpace", [c.in(0)], [attr.int("blocksize", attrNum(c.n.attrs, "block_size")), attr.str("mode", mode)]);
  },
});
for (const [k, v] of Object.entries(UNARY)) CONVERTERS[k] = (c) => c.emit(v, [c.in(0)]);
for (const [k, v] of Object.entries(BINARY)) {
  CONVERTERS[k] = (c) => {
    checkBroadcast(c);
    c.emit(v, [c.in(0), c.in(1)]);
  };
}
for (const [k, v] of Object.entries(REDUCE)) CONVERTERS[k] = (c) => reduce(c, v);

/** Why some ops have no translation. */
export const NO_ONNX: Record<string, string> = table({
  DetectionOutput: "ONNX has no SSD detection-output op (box decoding, per-class NMS and top-k in one layer)",
});
