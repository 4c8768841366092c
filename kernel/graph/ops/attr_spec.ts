/**
 * The attributes each op's consumers read (shape inference, folding, the plugins' lowering and
 * the serializers), checked once when a network is prepared. Shape inference alone reads only
 * what shapes need, and the plugins read the rest at loadNetwork: without this table a
 * Convolution missing `strides` read and analyzed fine, then failed at load with no code.
 * Optional strings are not listed: any present value parses, and their consumers judge it.
 */
import { Attrs } from "../graph";
import { AttributeError, attrBool, attrInts, attrNum, attrStr } from "../attrs";

/** ints/num: any integers/number; nat: integers >= 0 (pads); pos: integers >= 1 (strides, kernels); int: one integer. */
type Kind = "ints" | "nat" | "pos" | "num" | "int" | "bool" | "str";
/** Attribute name → kind; a trailing "!" on the kind marks it required. */
type Spec = Record<string, Kind | `${Kind}!`>;

const WINDOW: Spec = { strides: "pos!", dilations: "pos", pads_begin: "nat", pads_end: "nat" };
const CONV: Spec = { ...WINDOW, output_padding: "ints" };
const POOL: Spec = { ...WINDOW, kernel: "pos!", "exclude-pad": "bool", axis: "int" };
const REDUCE: Spec = { keep_dims: "bool" };

const SPECS = new Map<string, Spec>([
  ["Convolution", CONV],
  ["GroupConvolution", CONV],
  ["ConvolutionBackpropData", CONV],
  ["GroupConvolutionBackpropData", CONV],
  ["MaxPool", POOL],
  ["AvgPool", POOL],
  ["Elu", { alpha: "num!" }],
  ["Clamp", { min: "num!", max: "num!" }],
  ["LRN", { alpha: "num!", beta: "num!", bias: "num", size: "num!" }],
  ["BatchNormInference", { epsilon: "num!" }],
  ["SoftMax", { axis: "num" }],
  ["LogSoftmax", { axis: "num" }],
  ["Concat", { axis: "num!" }],
  ["MatMul", { transpose_a: "bool", transpose_b: "bool" }],
  ["Gather", { batch_dims: "num" }],
  ["Convert", { destination_type: "str!" }],
  ["FakeQuantize", { levels: "num!" }],
  ["DepthToSpace", { mode: "str!", block_size: "num" }],
  [
    "StridedSlice",
    { begin_mask: "ints", end_mask: "ints", new_axis_mask: "ints", shrink_axis_mask: "ints", ellipsis_mask: "ints" },
  ],
  [
    "Interpolate",
    {
      mode: "str!",
      align_corners: "bool",
      antialias: "bool",
      pads_begin: "ints",
      pads_end: "ints",
      cube_coeff: "num",
    },
  ],
  [
    "DetectionOutput",
    {
      keep_top_k: "ints!",
      nms_threshold: "num!",
      top_k: "num",
      num_classes: "num",
      background_label_id: "num",
      confidence_threshold: "num",
      share_location: "bool",
      variance_encoded_in_target: "bool",
      normalized: "bool",
      clip_before_nms: "bool",
      clip_after_nms: "bool",
      decrease_label_id: "bool",
      input_height: "num",
      input_width: "num",
      objectness_score: "num",
    },
  ],
  ...["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2"].map(
    (t) => [t, REDUCE] as [string, Spec],
  ),
]);

/** An integer list whose every item is at least `min`. */
function atLeast(min: number) {
  return (a: Attrs, key: string) => {
    const v = attrInts(a, key);
    if (v.some((x) => x < min)) throw new AttributeError(`attribute '${key}' must hold integers >= ${min}: '${a[key]}'`);
    return v;
  };
}

const READ: Record<Kind, (a: Attrs, key: string, def?: never) => unknown> = {
  ints: attrInts,
  nat: atLeast(0),
  pos: atLeast(1),
  num: attrNum,
  int: (a, key) => {
    const x = attrNum(a, key);
    if (!Number.isInteger(x)) throw new AttributeError(`attribute '${key}' is not an integer: '${a[key]}'`);
    return x;
  },
  bool: attrBool,
  str: attrStr,
};

/** Throws AttributeError for a required attribute that is missing, or a listed one that does not parse. */
export function checkAttrs(type: string, a: Attrs): void {
  const spec = SPECS.get(type);
  if (!spec) return;
  for (const [key, k] of Object.entries(spec)) {
    const required = k.endsWith("!");
    const kind = (required ? k.slice(0, -1) : k) as Kind;
    // Blank optional values ("pads_begin=\"\"") mean the default to every consumer.
    if (required || (a[key] ?? "").trim() !== "") READ[kind](a, key);
  }
}
