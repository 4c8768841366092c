import { ConstTensor, DType, Node } from "../graph";

/**
 * The contract between an op file and the registry. Op files import only these types, so they
 * never import registry.ts (which imports every op file) back.
 */

/** What an op sees during inference: its node and, per input, the shape, dtype and constant value (if known). */
export interface InferCtx {
  node: Node;
  shapes: number[][];
  dtypes: DType[];
  consts: (ConstTensor | undefined)[];
  file: string;
}

export interface OutputInfo {
  shape: number[];
  dtype: DType;
}

export interface OpDef {
  type: string;
  /** One entry per output. */
  infer(ctx: InferCtx): OutputInfo[];
  /** Evaluates the op when every input is constant (ShapeOf: when the input shape is known). */
  fold?(ctx: InferCtx): ConstTensor[];
}

/** An op a user registered (ie.addExtension): its shape rule, and what it declares about samples. */
export interface CustomOpDef extends OpDef {
  /** "independent": each output sample depends on the same input sample only; "mixes": it may not. */
  batch: "independent" | "mixes";
  /** How errors and reasons name the extension: "my.ops:MyNorm". */
  label: string;
}
