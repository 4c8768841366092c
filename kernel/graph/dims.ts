/** Free input dimensions (ONNX `dim_param`, IR `?` and `1..10`): what the model calls them and which are still open. */
import { DimSpec, Node } from "./graph";

/** The bounds of a free dim as IR writes them ("1..10", "2..", "..8"), or undefined when unbounded. */
export function boundsText(d: DimSpec): string | undefined {
  return d.min === undefined && d.max === undefined ? undefined : `${d.min ?? ""}..${d.max ?? ""}`;
}

/** How a free dim is shown to the user: its ONNX name, its IR bounds, or "?". */
export function dimLabel(d: DimSpec | undefined): string {
  return d?.name ?? (d && boundsText(d)) ?? "?";
}

/** A Parameter's dims as the model declares them; a graph built without `dims` declares its shape. */
export function declaredDims(p: Node): DimSpec[] {
  return p.dims ?? (p.outputs[0]?.shape ?? []).map((size) => ({ size }));
}

/** Whether `size` is allowed on an axis the model declares as `d` (a fixed axis may be resized, as OpenVINO's reshape allows). */
export function outOfBounds(d: DimSpec, size: number): boolean {
  return (d.min !== undefined && size < d.min) || (d.max !== undefined && size > d.max);
}
