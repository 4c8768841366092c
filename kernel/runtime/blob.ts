/** A tensor handed to or returned from an infer request: a shaped view of the request's memory. */
export type Precision = "FP32";

export class Blob {
  readonly precision: Precision = "FP32";
  constructor(
    readonly shape: number[],
    readonly data: Float32Array,
    readonly layout: string,
  ) {}

  get size(): number {
    return this.data.length;
  }
}

/** Inference Engine layout name for a rank. */
export function layoutFor(rank: number): string {
  return ["SCALAR", "C", "NC", "CHW", "NCHW", "NCDHW"][rank] ?? "ANY";
}
