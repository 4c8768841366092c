/** What a batcher caller may pass as one sample, and the check that it matches the network's inputs. */
import { InputError } from "../errors";
import { Blob } from "../runtime/blob";

/** One sample per input name: its values (the input's shape without the batch axis) or a Blob shaped [1, …]. */
export type SampleInputs = Record<string, ArrayLike<number> | Blob>;

/** An input or output as the batcher moves it: its name and the shape of one sample (without the batch axis). */
export interface Port {
  name: string;
  sample: number[];
  size: number;
  /** [1, …sample], the shape of each caller's output Blob. */
  shape: number[];
  layout: string;
}

/** The sample's values per input, in the order of `inputs`, once they match them; InputError naming the input otherwise. */
export function sampleValues(inputs: readonly Port[], sample: SampleInputs): ArrayLike<number>[] {
  if (sample === null || typeof sample !== "object") throw new InputError(`batcher.infer: expected { inputName: values }`);
  const names = inputs.map((p) => p.name);
  for (const key of Object.keys(sample))
    if (!names.includes(key)) throw new InputError(`batcher.infer: no input named '${key}'; inputs: ${names.join(", ")}`);
  return inputs.map((port) => {
    const v = sample[port.name];
    if (v === undefined) throw new InputError(`batcher.infer: input '${port.name}' is missing; inputs: ${names.join(", ")}`);
    const expected = `${port.size} values (shape [1,${port.sample}])`;
    if (v instanceof Blob) {
      if (
        v.shape.length !== port.sample.length + 1 ||
        v.shape[0] !== 1 ||
        v.shape.some((d, i) => i > 0 && d !== port.sample[i - 1])
      )
        throw new InputError(`batcher.infer: input '${port.name}' is a Blob of shape [${v.shape}], expected [1,${port.sample}]`);
      return v.data;
    }
    if (!v || typeof v !== "object" || typeof v.length !== "number" || v instanceof BigInt64Array || v instanceof BigUint64Array)
      throw new InputError(`batcher.infer: input '${port.name}' must be a Float32Array, an array of numbers or a Blob`);
    if (v.length !== port.size)
      throw new InputError(`batcher.infer: input '${port.name}' has ${v.length} values, expected ${expected}`);
    return v;
  });
}
