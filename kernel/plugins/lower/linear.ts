/** Ops with weights: convolutions, deconvolutions (grouped or not) and MatMul. */
import { Node } from "../../graph/graph";
import { attrBool, attrInts, attrStr } from "../../graph/attrs";
import { UnsupportedError } from "../../errors";
import { Lowering, LowerFn, toF32 } from "./lowering";
import { windowPads } from "../../graph/window";
import { lift, liftInput, liftOutput } from "./lift";

type Pads = { begin: number[]; end: number[] };

/**
 * A 2-D convolution or deconvolution: weights as oneDNN takes them (grouped [G, O/G, I/G, k...]
 * flattened to [G·O/G, I/G, k...]), strides, dilations and the pads `pads` derives.
 */
function emitWindowed(
  L: Lowering,
  n: Node,
  type: "conv" | "deconv",
  grouped: boolean,
  pads: (xs: number[], kernel: number[], strides: number[], dil: number[]) => Pads,
): void {
  const xs = L.inShape(n, 0);
  const w = L.requireConst(n, 1, "weights");
  const group = grouped ? w.shape[0] : 1;
  const wShape = grouped ? [w.shape[0] * w.shape[1], ...w.shape.slice(2)] : w.shape;
  const kernel = wShape.slice(2);
  const strides = attrInts(n.attrs, "strides");
  const dil = attrInts(
    n.attrs,
    "dilations",
    kernel.map(() => 1),
  );
  const { begin, end } = pads(xs, kernel, strides, dil);
  if (xs.length === 3) {
    // 1-D: the 2-D op with a height of 1 (weights [O, I, k] are [O, I, 1, k] with the same data).
    const out = liftOutput(L, n);
    const wt = L.constTensor([...wShape.slice(0, 2), 1, ...kernel], toF32(w));
    L.emit(n, type, [liftInput(L, n, L.tensor(n.inputs[0]), xs), wt], [out.tensor], {
      strides: lift(strides, 1),
      dilations: lift(dil, 1),
      padsBegin: lift(begin, 0),
      padsEnd: lift(end, 0),
      group,
    });
    return out.finish();
  }
  const wt = L.constTensor(wShape, toF32(w));
  L.emit(n, type, [L.tensor(n.inputs[0]), wt], [L.out(n)], {
    strides,
    dilations: dil,
    padsBegin: begin,
    padsEnd: end,
    group,
  });
}

/**
 * Deconvolution pads come from the relation out = s·(in−1) + span − pb − pe. With auto_pad or an
 * explicit output_shape input the pads split the total like same_upper/lower.
 */
function deconvPads(n: Node, xs: number[], kernel: number[], strides: number[], dil: number[]): Pads {
  const outSp = n.outputs[0].shape.slice(2);
  const autoPad = attrStr(n.attrs, "auto_pad", "explicit").toLowerCase();
  const derived = autoPad === "same_upper" || autoPad === "same_lower" || n.inputs.length > 2;
  const explicitBegin = attrInts(
    n.attrs,
    "pads_begin",
    kernel.map(() => 0),
  );
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < kernel.length; i++) {
    const span = (kernel[i] - 1) * dil[i] + 1;
    const total = strides[i] * (xs[2 + i] - 1) + span - outSp[i];
    const small = Math.floor(total / 2);
    begin.push(derived ? (autoPad === "same_lower" ? total - small : small) : explicitBegin[i]);
    end.push(total - begin[i]);
  }
  return { begin, end };
}

const conv: LowerFn = (L, n) => {
  const rank = L.inShape(n, 0).length;
  if (rank < 3 || rank > 5)
    throw new UnsupportedError(L.file, `only 1-D, 2-D and 3-D convolution are implemented (input rank ${rank})`, n.name);
  emitWindowed(L, n, "conv", n.type === "GroupConvolution", (xs, kernel, strides, dil) =>
    windowPads(n, xs.slice(2), n.outputs[0].shape.slice(2), kernel, strides, dil),
  );
};

const deconv: LowerFn = (L, n) => {
  const rank = L.inShape(n, 0).length;
  if (rank < 3 || rank > 5)
    throw new UnsupportedError(L.file, `only 1-D, 2-D and 3-D deconvolution are implemented (input rank ${rank})`, n.name);
  emitWindowed(L, n, "deconv", n.type === "GroupConvolutionBackpropData", (xs, kernel, strides, dil) =>
    deconvPads(n, xs, kernel, strides, dil),
  );
};

function matmul(L: Lowering, n: Node): void {
  // The graph follows the spec (a 1-D operand is unsqueezed, the added axis dropped), but the
  // CPU and GPU kernels take operands of rank >= 2 only: refuse it here, not in oneDNN (NATIVE).
  const [a, b] = [L.inShape(n, 0), L.inShape(n, 1)];
  if (a.length < 2 || b.length < 2)
    throw new UnsupportedError(L.file, `MatMul with a 1-D operand is not implemented ([${a}] x [${b}])`, n.name);
  L.emit(n, "matmul", [L.tensor(n.inputs[0]), L.tensor(n.inputs[1])], [L.out(n)], {
    transposeA: attrBool(n.attrs, "transpose_a", false) ? 1 : 0,
    transposeB: attrBool(n.attrs, "transpose_b", false) ? 1 : 0,
  });
}

export const LINEAR: Record<string, LowerFn> = {
  Convolution: conv,
  GroupConvolution: conv,
  ConvolutionBackpropData: deconv,
  GroupConvolutionBackpropData: deconv,
  MatMul: matmul,
};
