/**
 * Freezing graph inputs at read (ReadNetworkOptions.freeze, OpenVINO's convert_model(input=...)
 * with a value): each named input becomes a constant of its declared element type and shape, so
 * what it decides (an ONNX If on a sample rate) can be folded and it is no longer a network input.
 */
import { InputError } from "../errors";
import { ConstTensor, DType, Graph } from "../graph/graph";
import { makeConst } from "./tensor";

/** Input name → its values, flattened in row-major order. */
export type FreezeValues = Record<string, number[]>;

/** Inclusive ranges of the integer element types (i64/u64: what a JS number holds exactly). */
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  i8: [-128, 127],
  u8: [0, 255],
  i16: [-32768, 32767],
  u16: [0, 65535],
  i32: [-2147483648, 2147483647],
  u32: [0, 4294967295],
  i64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  u64: [0, Number.MAX_SAFE_INTEGER],
  boolean: [0, 1],
};

/** Whether `freeze` names `name` (its own key: an input called "__proto__" or "toString" is not frozen by Object's). */
export function isFrozen(freeze: FreezeValues, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(freeze, name);
}

/** Every name in `freeze` must be one of `inputs`: a typo must not leave the input free unnoticed. */
export function checkFreezeNames(file: string, freeze: FreezeValues, inputs: string[]): void {
  if (typeof freeze !== "object" || freeze === null || Array.isArray(freeze))
    throw new InputError(`${file}: freeze must map input names to arrays of values`);
  for (const name of Object.keys(freeze)) {
    if (!inputs.includes(name))
      throw new InputError(`${file}: freeze names '${name}', which is not an input of the model (inputs: ${inputs.join(", ")})`);
  }
}

/**
 * The constant that input `name` becomes. `declared` is its declared shape (-1: free): one free
 * axis takes what the value count leaves; with no declared shape, one value is a scalar and more a 1-D tensor.
 */
export function frozenConst(
  file: string,
  name: string,
  dtype: DType,
  declared: number[] | undefined,
  values: unknown,
): ConstTensor {
  const where = `${file}: freeze '${name}'`;
  if (!Array.isArray(values) || values.some((v) => typeof v !== "number"))
    throw new InputError(`${where}: the value must be an array of numbers, got ${JSON.stringify(values)}`);
  const range = INT_RANGE[dtype];
  const bad = range ? values.find((v: number) => !Number.isInteger(v) || v < range[0] || v > range[1]) : undefined;
  if (bad !== undefined)
    throw new InputError(`${where}: ${bad} does not fit the input's element type ${dtype} (integers ${range![0]}..${range![1]})`);
  const shape = declared ? [...declared] : values.length === 1 ? [] : [values.length];
  const free = shape.flatMap((d, i) => (d < 0 ? [i] : []));
  const fixed = shape.reduce((p, d) => (d < 0 ? p : p * d), 1);
  if (free.length === 1 && fixed > 0 && values.length % fixed === 0) shape[free[0]] = values.length / fixed;
  const count = shape.reduce((p, d) => p * d, 1);
  if (shape.some((d) => d < 0) || count !== values.length)
    throw new InputError(
      `${where}: ${values.length} value(s) do not match its declared shape [${declared?.join(",") ?? ""}] ` +
        `(${free.length > 1 ? "more than one free axis" : `it holds ${count}`})`,
    );
  return makeConst(dtype, shape, values);
}

/** An IR's Parameters named in `freeze` become Consts of their declared element type and shape. */
export function freezeParameters(g: Graph, freeze: FreezeValues): Graph {
  const params = g.nodes.filter((n) => n.type === "Parameter");
  checkFreezeNames(
    g.file,
    freeze,
    params.map((p) => p.name),
  );
  const nodes = g.nodes.map((n) => {
    if (n.type !== "Parameter" || !isFrozen(freeze, n.name)) return n;
    const out = n.outputs[0];
    const value = frozenConst(g.file, n.name, out.dtype, out.shape, freeze[n.name]);
    const attrs = { element_type: value.dtype, shape: value.shape.join(",") };
    const outputs = [{ ...out, shape: value.shape.slice() }];
    return { id: n.id, name: n.name, type: "Const", version: "opset1", attrs, inputs: [], outputs, value };
  });
  return { ...g, nodes };
}
