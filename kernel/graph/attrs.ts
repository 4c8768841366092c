import { Attrs } from "./graph";

/** Readers for IR-style string attributes ("1, 1", "true", "0.5"). */

export function attrStr(a: Attrs, key: string, def?: string): string {
  const v = a[key];
  if (v === undefined) {
    if (def === undefined) throw new Error(`missing attribute '${key}'`);
    return def;
  }
  return v;
}

export function attrInts(a: Attrs, key: string, def?: number[]): number[] {
  const v = a[key];
  if (v === undefined || v.trim() === "") {
    if (def === undefined) throw new Error(`missing attribute '${key}'`);
    return def;
  }
  return v.split(",").map((s) => {
    const x = Number(s.trim());
    if (!Number.isFinite(x)) throw new Error(`attribute '${key}' is not a list of numbers: '${v}'`);
    return x;
  });
}

export function attrFloats(a: Attrs, key: string, def?: number[]): number[] {
  return attrInts(a, key, def);
}

export function attrNum(a: Attrs, key: string, def?: number): number {
  const v = a[key];
  if (v === undefined || v.trim() === "") {
    if (def === undefined) throw new Error(`missing attribute '${key}'`);
    return def;
  }
  const x = Number(v);
  if (Number.isNaN(x)) throw new Error(`attribute '${key}' is not a number: '${v}'`);
  return x;
}

export function attrBool(a: Attrs, key: string, def?: boolean): boolean {
  const v = a[key];
  if (v === undefined) {
    if (def === undefined) throw new Error(`missing attribute '${key}'`);
    return def;
  }
  const s = v.trim().toLowerCase();
  return s === "true" || s === "1" || s === "yes";
}
