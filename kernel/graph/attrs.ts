import { Attrs } from "./graph";

/** Readers for IR-style string attributes ("1, 1", "true", "0.5"). */

/**
 * A missing or malformed attribute. The helpers know neither the file nor the layer: prepare()
 * and the plugins' lowering turn it into a ModelError that names both.
 */
export class AttributeError extends Error {}

export function attrStr(a: Attrs, key: string, def?: string): string {
  const v = a[key];
  if (v === undefined) {
    if (def === undefined) throw new AttributeError(`missing attribute '${key}'`);
    return def;
  }
  return v;
}

function attrList(a: Attrs, key: string, integers: boolean, def?: number[]): number[] {
  const v = a[key];
  if (v === undefined || v.trim() === "") {
    if (def === undefined) throw new AttributeError(`missing attribute '${key}'`);
    return def;
  }
  return v.split(",").map((s) => {
    const x = s.trim() === "" ? NaN : Number(s);
    if (!Number.isFinite(x) || (integers && !Number.isInteger(x))) {
      throw new AttributeError(`attribute '${key}' is not a list of ${integers ? "integers" : "numbers"}: '${v}'`);
    }
    return x;
  });
}

export function attrInts(a: Attrs, key: string, def?: number[]): number[] {
  return attrList(a, key, true, def);
}

export function attrFloats(a: Attrs, key: string, def?: number[]): number[] {
  return attrList(a, key, false, def);
}

export function attrNum(a: Attrs, key: string, def?: number): number {
  const v = a[key];
  if (v === undefined || v.trim() === "") {
    if (def === undefined) throw new AttributeError(`missing attribute '${key}'`);
    return def;
  }
  const x = Number(v);
  if (Number.isNaN(x)) throw new AttributeError(`attribute '${key}' is not a number: '${v}'`);
  return x;
}

const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

export function attrBool(a: Attrs, key: string, def?: boolean): boolean {
  const v = a[key];
  if (v === undefined) {
    if (def === undefined) throw new AttributeError(`missing attribute '${key}'`);
    return def;
  }
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new AttributeError(`attribute '${key}' is not a boolean: '${v}'`);
}
