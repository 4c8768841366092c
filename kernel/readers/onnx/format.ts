/** Attribute values as the IR writes them, so ONNX-read nodes carry the same strings as IR-read ones. */

export function fmt(v: number): string {
  return String(v);
}
export function list(v: number[]): string {
  return v.map(fmt).join(",");
}
export function bool(v: boolean): string {
  return v ? "true" : "false";
}
