/**
 * Shape-aware dynamic-batch analysis: with a symbolic batch N, prove op by op that every sample
 * is computed independently of the others. A data tensor must be [N, fixed...] and each op must
 * not mix samples; each verdict carries its proof or a counter-example.
 */
import { Graph, Node, PortRef } from "../graph/graph";
import { attrBool, attrInts, attrNum } from "../graph/attrs";
import { LayerVerdict } from "../schema";
import { isKnownOp, legacyType } from "./legacy";
import { Kind, Lin, PROBE_BATCHES, ShapeOptions, SymbolicGraph, dependsOnN, formatDim, formatShape, isN } from "./symbolic";
import { table } from "../dict";

type Shape = (Lin | null)[] | null;

/** What a rule sees of one data node. */
interface RuleCtx {
  node: Node;
  sym: SymbolicGraph;
  inShape(i: number): Shape;
  inKind(i: number): Kind;
  /** Integer values of constant input i, or undefined when it is not a constant. */
  ints(i: number): number[] | undefined;
  outShape(p: number): Shape;
  /** "Reshape [N,128,2,2] → [N,512]" */
  sig(): string;
}

/** A rule proves the op (`ok`) or refutes it; `why` is the proof or the counter-example. */
type Rule = (c: RuleCtx) => { ok: boolean; why: string };

const ok = (why: string) => ({ ok: true, why });
const no = (why: string) => ({ ok: false, why });

const rank = (s: Shape): number => (s ? s.length : -1);

function normAxis(axis: number, r: number): number {
  return axis < 0 ? axis + r : axis;
}

/** Where the batch went in an output whose axis 0 is not N. */
function batchMove(s: (Lin | null)[]): string {
  const k = s.findIndex((d) => dependsOnN(d));
  if (k < 0) return "drops the batch (no axis depends on N)";
  if (k === 0) return `folds the batch into axis 0 (${formatDim(s[0])} instead of N)`;
  return isN(s[k]) ? `moves the batch to axis ${k}` : `folds the batch into axis ${k}`;
}

/** Elementwise with numpy broadcast: every data operand must align its axis 0 with the output's. */
const elementwise: Rule = (c) => {
  const r = rank(c.outShape(0));
  for (let i = 0; i < c.node.inputs.length; i++) {
    const s = c.inShape(i);
    if (c.inKind(i) === "data") {
      if (rank(s) !== r) return no(`operand ${i} ${formatShape(s)} does not align its batch axis with the output's axis 0`);
    } else if (s && s.length === r && r > 0 && formatDim(s[0]) !== 1) {
      return no(`operand ${i} has a fixed axis 0 of ${formatDim(s[0])}: it cannot broadcast over N samples`);
    }
  }
  const others = c.node.inputs.length > 1 ? "; other operands broadcast over samples (axis 0 of size 1 or absent)" : "";
  return ok(`elementwise: ${c.sig()}${others}`);
};

/** Ops that treat axis 0 as the batch by definition; inputs other than 0 (weights, params) must be constant. */
function perSample(what: string, axesInput?: number, axisAttr?: string): Rule {
  return (c) => {
    for (let i = 1; i < c.node.inputs.length; i++) {
      if (c.inKind(i) === "data") return no(`input ${i} (weights/parameters) is computed from the input: samples would mix`);
    }
    const r = rank(c.inShape(0));
    let axes: number[] | undefined;
    if (axesInput !== undefined && c.node.inputs.length > axesInput) {
      axes = c.ints(axesInput);
      if (!axes) return no(`its axes are not a constant`);
    }
    if (axisAttr && c.node.attrs[axisAttr] !== undefined) axes = [attrNum(c.node.attrs, axisAttr)];
    if (axes && axes.some((a) => normAxis(a, r) === 0))
      return no(`it acts along axis 0 (axes [${axes.join(",")}]): samples would mix`);
    return ok(`${what} within each sample: ${c.sig()}`);
  };
}

const reshapeLike: Rule = (c) => {
  const s = c.inShape(0);
  if (!s || s.length === 0 || !isN(s[0])) return no(`its input ${formatShape(s)} does not have axis 0 = N`);
  return ok(`axis 0 stays N: ${c.sig()} keeps samples contiguous (row-major)`);
};

const transpose: Rule = (c) => {
  const r = rank(c.inShape(0));
  let perm = c.ints(1);
  if (!perm) return no("its permutation is not a constant");
  if (perm.length === 0) perm = Array.from({ length: r }, (_, i) => r - 1 - i);
  if (perm.length > 0 && perm[0] !== 0) {
    return no(`perm [${perm.join(",")}] moves the batch to axis ${perm.indexOf(0)}: ${c.sig()}`);
  }
  return ok(`perm [${perm.join(",")}] keeps axis 0 first: ${c.sig()}`);
};

const reduce: Rule = (c) => {
  const axes = c.ints(1);
  if (!axes) return no("its reduction axes are not a constant");
  const r = rank(c.inShape(0));
  if (axes.some((a) => normAxis(a, r) === 0)) return no(`${c.node.type} over axis 0 combines samples: ${c.sig()}`);
  return ok(`${c.node.type} over axes [${axes.join(",")}] stays within each sample: ${c.sig()}`);
};

function alongAttr(attr: string, def: number, verb: string): Rule {
  return (c) => {
    const r = c.node.type === "Concat" ? rank(c.outShape(0)) : rank(c.inShape(0));
    const axis = normAxis(attrNum(c.node.attrs, attr, def), r);
    if (axis === 0) return no(`${c.node.type} along axis 0 ${verb} across samples`);
    return ok(`${c.node.type} along axis ${axis} stays within each sample: ${c.sig()}`);
  };
}

function alongInput(i: number): Rule {
  return (c) => {
    const v = c.ints(i);
    if (!v || v.length !== 1) return no(`its axis is not a constant scalar`);
    const axis = normAxis(v[0], rank(c.inShape(0)));
    if (axis === 0) return no(`${c.node.type} along axis 0 separates samples into different outputs`);
    return ok(`${c.node.type} along axis ${axis} stays within each sample: ${c.sig()}`);
  };
}

const gather: Rule = (c) => {
  const axisV = c.ints(2);
  if (!axisV) return no("its axis is not a constant");
  const axis = normAxis(axisV[0], rank(c.inShape(0)));
  const batchDims = attrNum(c.node.attrs, "batch_dims", 0);
  const dataIn = c.inKind(0) === "data";
  const idxIn = c.inKind(1) === "data";
  if (!dataIn && idxIn && axis === 0 && batchDims === 0) {
    return ok(`lookup in a constant table: each sample's indices select its own rows: ${c.sig()}`);
  }
  if (axis === 0) return no(`Gather along axis 0 picks samples by index: ${c.sig()}`);
  if (idxIn && batchDims < 1) return no(`indices computed from the input are shared by all samples (batch_dims = 0)`);
  return ok(`Gather along axis ${axis} stays within each sample: ${c.sig()}`);
};

/** Slices must take all of axis 0 in order: with output axis 0 = input axis 0 = N that leaves only a positive stride to check. */
const slice: Rule = (c) => {
  const s = c.inShape(0);
  if (!s || s.length === 0 || !isN(s[0])) return no(`its input ${formatShape(s)} does not have axis 0 = N`);
  let step0: number | undefined;
  if (c.node.type === "StridedSlice") {
    const ellipsis0 = (attrInts(c.node.attrs, "ellipsis_mask", [0])[0] ?? 0) !== 0;
    const strides = c.node.inputs.length > 3 ? c.ints(3) : undefined;
    if (c.node.inputs.length > 3 && !strides) return no("its strides are not a constant");
    step0 = ellipsis0 ? 1 : (strides?.[0] ?? 1);
  } else {
    const steps = c.ints(3);
    if (!steps) return no("its steps are not a constant");
    const axes = c.node.inputs.length > 4 ? c.ints(4) : steps.map((_, i) => i);
    if (!axes) return no("its axes are not a constant");
    const k = axes.findIndex((a) => normAxis(a, s.length) === 0);
    step0 = k < 0 ? 1 : steps[k];
  }
  if (step0 < 0) return no(`it reverses axis 0, so sample i reads sample N-1-i: ${c.sig()}`);
  return ok(`takes all of axis 0 in order: ${c.sig()}`);
};

const pad: Rule = (c) => {
  const b = c.ints(1);
  const e = c.ints(2);
  if (!b || !e) return no("its pads are not constants");
  if ((b[0] ?? 0) !== 0 || (e[0] ?? 0) !== 0) return no(`it pads axis 0 (adds samples): ${c.sig()}`);
  return ok(`pads within each sample: ${c.sig()}`);
};

const matmul: Rule = (c) => {
  const ta = attrBool(c.node.attrs, "transpose_a", false);
  const tb = attrBool(c.node.attrs, "transpose_b", false);
  const [ka, kb] = [c.inKind(0), c.inKind(1)];
  const [ra, rb] = [rank(c.inShape(0)), rank(c.inShape(1))];
  if (ka === "data" && kb !== "data") {
    if (ra >= 3) return ok(`axis 0 of A is a batch axis; B is constant: ${c.sig()}`);
    if (ra === 2 && !ta) return ok(`each row of A is one sample, B is constant (FullyConnected): ${c.sig()}`);
    return no(`axis 0 of A is contracted (it is the K axis): samples would be summed together`);
  }
  if (ka !== "data" && kb === "data") {
    if (rb >= 3 && rb >= ra) return ok(`axis 0 of B is a batch axis; A is constant: ${c.sig()}`);
    return no(`axis 0 of B is ${rb === 2 && !tb ? "contracted (the K axis)" : "not the output's batch axis"}: samples would mix`);
  }
  if (ra >= 3 && ra === rb) return ok(`batched MatMul: sample i of A meets only sample i of B: ${c.sig()}`);
  return no(`both operands are data and their axis 0 is not a shared batch axis: samples would mix`);
};

const topk: Rule = (c) => {
  if (c.inKind(1) === "data") return no("its k is computed from the input");
  const axis = normAxis(attrNum(c.node.attrs, "axis"), rank(c.inShape(0)));
  if (axis === 0) return no("TopK along axis 0 ranks samples against each other");
  return ok(`TopK along axis ${axis} stays within each sample: ${c.sig()}`);
};

const broadcast: Rule = (c) => {
  if (c.inKind(0) === "data" && rank(c.inShape(0)) !== rank(c.outShape(0))) {
    return no(`input ${formatShape(c.inShape(0))} does not keep its batch on axis 0 of the output`);
  }
  return ok(`broadcasts within each sample: ${c.sig()}`);
};

const reshapeOps = ["Reshape", "Squeeze", "Unsqueeze", "Flatten"];
// prettier-ignore
const elementwiseOps = [
  "ReLU", "PReLU", "Sigmoid", "Tanh", "Elu", "Clamp", "Exp", "HSwish", "Swish", "HSigmoid", "Mish", "SoftPlus",
  "SoftSign", "Gelu", "Abs", "Log", "Sqrt", "Erf", "Selu", "HardSigmoid", "Floor", "Ceiling", "Sign", "Negative",
  "Round", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "LogicalNot",
  "Convert", "Add", "Multiply", "Subtract", "Divide", "Maximum", "Minimum", "SquaredDifference", "Power", "Equal",
  "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalXor", "FloorMod",
  "Mod", "Select", "FakeQuantize", "Identity", "ConvertLike",
];

const RULES: Record<string, Rule> = table({
  Convolution: perSample("convolution"),
  GroupConvolution: perSample("grouped convolution"),
  BinaryConvolution: perSample("binary convolution"),
  ConvolutionBackpropData: perSample("deconvolution"),
  GroupConvolutionBackpropData: perSample("grouped deconvolution"),
  MaxPool: perSample("pooling"),
  AvgPool: perSample("pooling"),
  AdaptiveAvgPool: perSample("adaptive pooling"),
  AdaptiveMaxPool: perSample("adaptive pooling"),
  BatchNormInference: perSample("per-channel normalisation"),
  LRN: perSample("local response normalisation", 1),
  NormalizeL2: perSample("L2 normalisation", 1),
  MVN: perSample("mean-variance normalisation", 1),
  GRN: perSample("global response normalisation"),
  DepthToSpace: perSample("depth-to-space"),
  SpaceToDepth: perSample("space-to-depth"),
  ShuffleChannels: perSample("channel shuffle", undefined, "axis"),
  ReorgYolo: perSample("reorg"),
  RegionYolo: perSample("region", undefined, "axis"),
  Interpolate: (c) => ok(`axis 0 is not resized: ${c.sig()}`),
  Transpose: transpose,
  SoftMax: alongAttr("axis", 1, "normalises"),
  Softmax: alongAttr("axis", 1, "normalises"),
  LogSoftmax: alongAttr("axis", 1, "normalises"),
  Concat: alongAttr("axis", 0, "stacks samples of different inputs"),
  Split: alongInput(1),
  VariadicSplit: alongInput(1),
  Gather: gather,
  StridedSlice: slice,
  Slice: slice,
  Pad: pad,
  MatMul: matmul,
  TopK: topk,
  Tile: (c) => ok(`repeats axis 0 once: ${c.sig()}`),
  Broadcast: broadcast,
});
for (const t of reshapeOps) RULES[t] = reshapeLike;
for (const t of elementwiseOps) RULES[t] = elementwise;
// prettier-ignore
for (const t of ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
  "ReduceLogicalAnd", "ReduceLogicalOr"]) RULES[t] = reduce;

/** Input ports that take a shape (where a value depending on N is expected, not data). */
const SHAPE_PORTS: Record<string, number[]> = table({
  Reshape: [1],
  Broadcast: [1, 2],
  Tile: [1],
  Squeeze: [1],
  Unsqueeze: [1],
  StridedSlice: [1, 2, 3],
  Slice: [1, 2, 3, 4],
  Interpolate: [1, 2, 3],
  Pad: [1, 2],
  PriorBox: [0, 1],
  PriorBoxClustered: [0, 1],
  ConvolutionBackpropData: [2],
  GroupConvolutionBackpropData: [2],
});

/** The ShapeOf a shape value comes from, for naming it in a reason. */
function shapeSource(ref: PortRef, sym: SymbolicGraph): Node | undefined {
  const seen = new Set<number>();
  const stack = [ref.node];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = sym.node(id);
    if (!n) continue;
    if (n.type === "ShapeOf") return n;
    for (const r of n.inputs) if (sym.kind(r) === "shape") stack.push(r.node);
  }
  return undefined;
}

function showValues(ref: PortRef, sym: SymbolicGraph): string {
  const vs = sym.values(ref);
  // sym.values() lists one value per probe batch, in PROBE_BATCHES order.
  const v = vs[0];
  return v ? `[${Array.from(v.data.slice(0, 8)).join(",")}${v.data.length > 8 ? ",…" : ""}] at N=${PROBE_BATCHES[0]}` : "a value";
}

function judgeData(n: Node, sym: SymbolicGraph, opts: ShapeOptions): { verdict: "supported" | "unsupported"; reason: string } {
  const inShape = (i: number): Shape => (n.inputs[i] ? sym.dims(n.inputs[i]) : null);
  const outShape = (p: number): Shape => sym.dims({ node: n.id, port: p });
  const c: RuleCtx = {
    node: n,
    sym,
    inShape,
    inKind: (i) => (n.inputs[i] ? sym.kind(n.inputs[i]) : "const"),
    ints: (i) => {
      const ref = n.inputs[i];
      if (!ref || sym.kind(ref) !== "const") return undefined;
      const v = sym.value(ref);
      return v ? Array.from(v.data) : undefined;
    },
    outShape,
    sig: () => `${n.type} ${formatShape(inShape(0))} → ${formatShape(outShape(0))}`,
  };
  const shapePorts = SHAPE_PORTS[n.type] ?? [];
  for (let i = 0; i < n.inputs.length; i++) {
    if (c.inKind(i) !== "shape" || shapePorts.includes(i)) continue;
    const src = shapeSource(n.inputs[i], sym);
    return {
      verdict: "unsupported",
      reason:
        `input ${i} is ${showValues(n.inputs[i], sym)}, computed from the batch size` +
        `${src ? ` by ShapeOf '${src.name}'` : ""}, and feeds data: results would depend on N`,
    };
  }
  for (let p = 0; p < n.outputs.length; p++) {
    const s = outShape(p);
    const where = n.outputs.length > 1 ? `output ${p} ` : "";
    if (!s) return { verdict: "unsupported", reason: `${where}rank changes with the batch` };
    if (s.length === 0) return { verdict: "unsupported", reason: `${where}is a scalar: the batch is reduced away (${c.sig()})` };
    if (s.some((d) => d === null)) return { verdict: "unsupported", reason: `${where}${formatShape(s)} is not linear in N` };
    if (!isN(s[0])) {
      return {
        verdict: "unsupported",
        reason: `${n.type} ${formatShape(inShape(0))} → ${where}${formatShape(s)} ${batchMove(s)}`,
      };
    }
    const k = s.findIndex((d, i) => i > 0 && dependsOnN(d));
    if (k > 0) return { verdict: "unsupported", reason: `${c.sig()} spreads the batch into axis ${k} as well` };
  }
  if (n.type === "Parameter")
    return { verdict: "supported", reason: `input: axis 0 is the batch N, ${formatShape(outShape(0))}` };
  const custom = opts.customOps?.get(n.type);
  // Nothing in the graph says what a callback does with samples: its extension's declaration is trusted.
  if (custom?.batch === "independent")
    return { verdict: "supported", reason: `declared batch-independent by its extension '${custom.label}': ${c.sig()}` };
  if (custom) return { verdict: "unsupported", reason: `declared by its extension '${custom.label}' to mix samples` };
  const rule = RULES[n.type];
  if (!rule)
    return { verdict: "unsupported", reason: `no batch rule for op ${n.type}: cannot prove that samples stay independent` };
  const r = rule(c);
  return { verdict: r.ok ? "supported" : "unsupported", reason: r.why };
}

function judgeResult(n: Node, sym: SymbolicGraph): { verdict: "supported" | "unsupported"; reason: string } {
  const ref = n.inputs[0];
  const k = ref ? sym.kind(ref) : "const";
  if (k === "shape")
    return { verdict: "unsupported", reason: `returns ${showValues(ref, sym)}, a value that depends on the batch size` };
  if (k === "const") return { verdict: "supported", reason: "output: a constant, the same for every sample count" };
  return { verdict: "supported", reason: `output ${formatShape(sym.dims(ref))}` };
}

/** A folded node or a computation on constants and shapes only: not a layer, unless its value follows N. */
function judgeNonData(n: Node, kinds: Kind[], sym: SymbolicGraph): { verdict: "supported" | "constant"; reason: string } {
  const how = n.folded ? "folded at load" : "computed from shapes";
  const p = kinds.indexOf("shape");
  if (p < 0) return { verdict: "constant", reason: `${how}: depends on constants and static shapes only, the same for every N` };
  return {
    // A folded value is a constant of the compiled program; an unfolded shape computation runs as a layer.
    verdict: n.folded ? "constant" : "supported",
    reason: `${how}: its value depends on N (${showValues({ node: n.id, port: p }, sym)}), so it may only reach shape inputs`,
  };
}

/** Verdicts for every node of raw graph `g`, in its order. */
export function shapeAwareLayers(g: Graph, opts: ShapeOptions = {}): LayerVerdict[] {
  const sym = new SymbolicGraph(g, opts);
  const names = new Map(g.nodes.map((n) => [n.id, n.name]));
  return g.nodes.map((raw) => {
    const base = {
      id: raw.id,
      name: raw.name,
      type: raw.type,
      inputs: raw.inputs.map((r) => r.node),
    };
    const failed = sym.failed.get(raw.id);
    if (failed !== undefined) {
      const reason = isKnownOp(raw.type)
        ? `shape inference fails ${failed}`
        : `no batch rule for op ${raw.type} (shape inference fails ${failed})`;
      return { ...base, legacyType: legacyType(raw, g), verdict: "unsupported", reason, outputShape: [] };
    }
    const cause = sym.skipped.get(raw.id);
    const n = sym.node(raw.id);
    if (cause !== undefined || !n) {
      return {
        ...base,
        legacyType: legacyType(raw, g),
        verdict: "unsupported",
        reason: `not analysed: depends on '${names.get(cause ?? -1) ?? "?"}', whose shape cannot follow the batch`,
        outputShape: [],
      };
    }
    const shown = n.type === "Result" ? sym.dims(n.inputs[0]) : n.outputs.length > 0 ? sym.dims({ node: n.id, port: 0 }) : [];
    const outputShape = (shown ?? []).map(formatDim);
    const lt = legacyType(n, sym.graphs[0]);
    const kinds = n.outputs.map((_, port) => sym.kind({ node: n.id, port }));
    const judged =
      n.type === "Result"
        ? judgeResult(n, sym)
        : n.type === "Const"
          ? { verdict: "constant" as const, reason: "constant" }
          : n.folded || !kinds.includes("data")
            ? judgeNonData(n, kinds, sym)
            : judgeData(n, sym, opts);
    return { ...base, legacyType: lt, ...judged, outputShape };
  });
}
