/** Ops that combine values along axes: reductions, SoftMax/LogSoftmax, LRN and BatchNorm. */
import { Node } from "../../graph/graph";
import { attrBool, attrNum } from "../../graph/attrs";
import { table } from "../../dict";
import { Lowering, LowerFn, normAxis } from "./lowering";

/** Layer type → the native "reduce" op. */
const REDUCE: Record<string, string> = table({
  ReduceSum: "sum",
  ReduceMean: "mean",
  ReduceMax: "max",
  ReduceMin: "min",
  ReduceProd: "prod",
  ReduceL1: "l1",
  ReduceL2: "l2",
});

function reduce(L: Lowering, n: Node): void {
  const rank = L.inShape(n, 0).length;
  const axes = [...new Set(L.constInts(n, 1, "axes").map((a) => normAxis(a, rank)))].sort((a, b) => a - b);
  L.emit(n, "reduce", [L.tensor(n.inputs[0])], [L.out(n)], {
    op: REDUCE[n.type],
    axes,
    keepDims: attrBool(n.attrs, "keep_dims", false) ? 1 : 0,
  });
}

function softmax(L: Lowering, n: Node): void {
  L.emit(n, "softmax", [L.tensor(n.inputs[0])], [L.out(n)], {
    axis: normAxis(attrNum(n.attrs, "axis", 1), L.inShape(n, 0).length),
    log: n.type === "LogSoftmax" ? 1 : 0,
  });
}

function lrn(L: Lowering, n: Node): void {
  const rank = L.inShape(n, 0).length;
  const axes = L.constInts(n, 1, "axes").map((a) => normAxis(a, rank));
  const across = axes.length === 1 && axes[0] === 1;
  L.emit(n, "lrn", [L.tensor(n.inputs[0])], [L.out(n)], {
    alpha: attrNum(n.attrs, "alpha"),
    beta: attrNum(n.attrs, "beta"),
    bias: attrNum(n.attrs, "bias", 1),
    size: attrNum(n.attrs, "size"),
    region: across ? "across" : "within",
  });
}

function batchNorm(L: Lowering, n: Node): void {
  // opset1 took (gamma, beta, data, mean, variance); opset5 moved data first.
  const order = n.version === "opset1" ? [2, 0, 1, 3, 4] : [0, 1, 2, 3, 4];
  const [data, gamma, beta, mean, variance] = order.map((i) => n.inputs[i]);
  L.emit(
    n,
    "batchnorm",
    [data, gamma, beta, mean, variance].map((r) => L.tensor(r)),
    [L.out(n)],
    { epsilon: attrNum(n.attrs, "epsilon") },
  );
}

export const NORMALIZE: Record<string, LowerFn> = {
  ...Object.fromEntries(Object.keys(REDUCE).map((t) => [t, reduce])),
  SoftMax: softmax,
  LogSoftmax: softmax,
  LRN: lrn,
  BatchNormInference: batchNorm,
};
