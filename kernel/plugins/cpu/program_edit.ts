/**
 * A lowered program being rewritten in place by the CPU plugin's passes (fuse.ts, fuse_sepconv.ts):
 * its ops (null once removed), each op's layer and the layers fused into it, the graph queries the
 * passes share, and the program with the removed ops dropped.
 */
import { ExecutedLayer } from "../plugin";
import { NativeOpSpec, NativeTensorSpec } from "../native";
import { LoweredProgram } from "../lower";

export interface FusedProgram extends LoweredProgram {
  /** Per op of spec.ops: the layers fused into it (layers[i] stays the op's own layer). */
  fused: ExecutedLayer[][];
}

export function same(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class ProgramEdit {
  readonly ops: (NativeOpSpec | null)[];
  readonly layers: ExecutedLayer[];
  readonly fused: ExecutedLayer[][];
  readonly outputs: Set<number>;

  /** `p.fused` when it has been through a pass already; none fused otherwise. */
  constructor(protected readonly p: LoweredProgram & { fused?: ExecutedLayer[][] }) {
    this.ops = [...p.spec.ops];
    this.layers = [...p.layers];
    this.fused = p.fused ? p.fused.map((f) => [...f]) : p.spec.ops.map(() => []);
    this.outputs = new Set(p.spec.outputs);
  }

  get tensors(): NativeTensorSpec[] {
    return this.p.spec.tensors;
  }

  shape(t: number): number[] {
    return this.tensors[t].shape;
  }

  /** Ops reading tensor t (each reading op once). */
  consumers(t: number): number[] {
    const out: number[] = [];
    this.ops.forEach((op, i) => op && op.inputs.includes(t) && out.push(i));
    return out;
  }

  producer(t: number): number {
    return this.ops.findIndex((op) => op !== null && op.outputs.includes(t));
  }

  /** The single op that reads t, when t is not a program output and nothing else reads it. */
  soleConsumer(t: number): number | undefined {
    if (this.outputs.has(t)) return undefined;
    const c = this.consumers(t);
    if (c.length !== 1) return undefined;
    const op = this.ops[c[0]]!;
    return op.inputs.filter((x) => x === t).length === 1 ? c[0] : undefined;
  }

  /** Drops op j, listing its layers (and those fused into it) as run inside op i. */
  moveLayers(i: number, j: number): void {
    const into = this.layers[i].name;
    this.fused[i].push({ ...this.layers[j], fusedInto: into }, ...this.fused[j].map((l) => ({ ...l, fusedInto: into })));
    this.ops[j] = null;
  }

  /** The program as edited, without the dropped ops. */
  result(): FusedProgram {
    const keep = this.ops.map((o, i) => (o ? i : -1)).filter((i) => i >= 0);
    return {
      ...this.p,
      spec: { ...this.p.spec, ops: keep.map((i) => this.ops[i]!) },
      layers: keep.map((i) => this.layers[i]),
      fused: keep.map((i) => this.fused[i]),
    };
  }
}
