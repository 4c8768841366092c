/**
 * Custom layers (ie.addExtension): a shape rule and a JavaScript computation for a layer type
 * dynbatch does not implement, with what the shape-aware analysis may assume about samples.
 */
import { Node } from "../graph/graph";
import { getOpDef } from "../graph/ops/registry";
import type { CustomOpDef } from "../graph/ops/types";
import { ExtensionError, ShapeError } from "../errors";

/** Shapes of one compute call: at the request's batch n on axis 0 of batched tensors. */
export interface ExtensionShapes {
  inputs: number[][];
  outputs: number[][];
}

export interface Extension {
  /** The layer type: the IR `type` or the ONNX `op_type`. */
  type: string;
  /** The ONNX domain (or the IR layer's `version`) it must also match; any when absent. */
  domain?: string;
  /** Output shapes from the input shapes (at any batch); attributes as IR writes them ("1,2"). */
  inferShape: (inputs: number[][], attrs: Record<string, string>) => number[][];
  /** "independent": sample i of every output depends on sample i of the inputs only; "mixes": it may not. */
  batch: "independent" | "mixes";
  /**
   * Computes the layer on CPU for the request's n samples at once: f32 data, row-major (NCHW),
   * `outputs` preallocated at `shapes.outputs`. May instead return the outputs, each of that length.
   */
  compute: (
    inputs: Float32Array[],
    attrs: Record<string, string>,
    outputs: Float32Array[],
    shapes: ExtensionShapes,
  ) => void | Float32Array[];
}

export function extensionLabel(e: Pick<Extension, "type" | "domain">): string {
  return e.domain ? `${e.domain}:${e.type}` : e.type;
}

/** Checks what addExtension was given, so a mistake fails there and not in the middle of a run. */
export function checkExtension(e: Extension): void {
  const label = e && typeof e.type === "string" ? extensionLabel(e) : "?";
  if (!e || typeof e !== "object") throw new ExtensionError(label, "addExtension takes an object");
  if (typeof e.type !== "string" || e.type === "") throw new ExtensionError(label, "`type` must be a non-empty string");
  if (e.domain !== undefined && typeof e.domain !== "string") throw new ExtensionError(label, "`domain` must be a string");
  if (getOpDef(e.type)) throw new ExtensionError(label, `'${e.type}' is a built-in op; an extension cannot replace it`);
  for (const f of ["inferShape", "compute"] as const)
    if (typeof e[f] !== "function") throw new ExtensionError(label, `\`${f}\` must be a function`);
  if (e.batch !== "independent" && e.batch !== "mixes")
    throw new ExtensionError(label, `\`batch\` must be "independent" or "mixes", got ${JSON.stringify(e.batch)}`);
}

/** Whether `e` is the extension of layer `n` (type, and domain when the extension names one). */
export function extensionMatches(e: Extension, n: Node): boolean {
  return e.type === n.type && (e.domain === undefined || e.domain === n.version);
}

/** The shape rule of an extension, as prepare() calls any op's: its result is checked, its errors name the layer. */
export function customOpDef(e: Extension): CustomOpDef {
  const label = extensionLabel(e);
  return {
    type: e.type,
    batch: e.batch,
    label,
    infer(ctx) {
      const fail = (why: string) => new ShapeError(ctx.file, ctx.node.name, `extension '${label}': inferShape ${why}`);
      let shapes: unknown;
      try {
        shapes = e.inferShape(
          ctx.shapes.map((s) => [...s]),
          { ...ctx.node.attrs },
        );
      } catch (err) {
        throw fail(`threw: ${(err as Error)?.message ?? String(err)}`);
      }
      const n = ctx.node.outputs.length;
      if (!Array.isArray(shapes) || shapes.length !== n)
        throw fail(`must return ${n} shape(s), one per output, got ${JSON.stringify(shapes)}`);
      return shapes.map((s: unknown, i) => {
        if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && d >= 0))
          throw fail(`returned ${JSON.stringify(s)} for output ${i}: expected non-negative integer dims`);
        // A rank the model itself declares (an IR port, ONNX value_info) must hold.
        const declared = ctx.node.outputs[i].shape;
        if (declared.length > 0 && declared.length !== s.length)
          throw fail(`returned rank ${s.length} for output ${i}, the model declares rank ${declared.length} [${declared}]`);
        return { shape: [...(s as number[])], dtype: "f32" as const };
      });
    },
  };
}
