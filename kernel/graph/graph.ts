/**
 * The one graph representation every reader produces and every later stage consumes.
 *
 * Operations use OpenVINO opset names and IR attribute names ("Convolution" with "strides",
 * "pads_begin", ...). The ONNX reader translates ONNX nodes into these ops, so shape inference,
 * analysis and the plugins know a single vocabulary.
 */

/** Element types of IR Const / Parameter ports. Floats are held as f32 in memory (f16 is decompressed at read). */
export type DType = "f32" | "f16" | "f64" | "i64" | "i32" | "i16" | "i8" | "u8" | "u16" | "u32" | "u64" | "boolean";

/**
 * A constant value. Float types are held in a Float32Array; integer and boolean types in a
 * Float64Array (exact for |v| < 2^53; INT64_MAX-style sentinels stay "huge", which is what
 * slicing code needs).
 */
export interface ConstTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Where a node input comes from: output `port` (0-based output index) of node `node` (node id). */
export interface PortRef {
  node: number;
  port: number;
}

/** One output of a node. `shape` is filled by shape inference (concrete numbers). */
export interface OutputPort {
  /** Tensor names (IR v11 `names`, ONNX value names). May be empty. */
  names: string[];
  dtype: DType;
  shape: number[];
}

/** Attribute values as written in IR xml: strings ("1, 1", "numpy", "true"). Use the attr helpers to read them. */
export type Attrs = Record<string, string>;

/**
 * One axis of a Parameter as the model declares it: a fixed size, or free (-1) with the name
 * the model gives it (ONNX `dim_param`) or the bounds it allows (IR `1..10`).
 */
export interface DimSpec {
  /** The fixed size; -1 when the model leaves the axis free. */
  size: number;
  /** ONNX `dim_param` ("batch", "height"). */
  name?: string;
  /** Smallest size allowed (IR `2..`, `2..10`). */
  min?: number;
  /** Largest size allowed (IR `..10`, `1..10`). */
  max?: number;
}

export interface Node {
  /** Unique within the graph; IR layer id or a reader-assigned number. */
  id: number;
  name: string;
  /** Opset op type: "Parameter", "Const", "Result", "Convolution", ... */
  type: string;
  /** Opset version string as in IR ("opset1", "opset8"); informational. */
  version: string;
  attrs: Attrs;
  inputs: PortRef[];
  outputs: OutputPort[];
  /** Only for type "Const" (and for nodes replaced by constant folding). */
  value?: ConstTensor;
  /** Set by constant folding: the node kept its type but its outputs are the constant `value`(s). */
  folded?: ConstTensor[];
  /** Only for type "Parameter": its dims as the model declares them (names and bounds of the free ones). */
  dims?: DimSpec[];
}

export interface Graph {
  /** Model name (IR `net name`, ONNX graph name) */
  name: string;
  /** File the graph was read from, for error messages. */
  file: string;
  /** "ir10", "ir11", "onnx" */
  format: string;
  /** Nodes in topological order (every input refers to an earlier node). */
  nodes: Node[];
}

/** Index of nodes by id. */
export function nodeMap(g: Graph): Map<number, Node> {
  return new Map(g.nodes.map((n) => [n.id, n]));
}

export function parameters(g: Graph): Node[] {
  return g.nodes.filter((n) => n.type === "Parameter");
}

export function results(g: Graph): Node[] {
  return g.nodes.filter((n) => n.type === "Result");
}
