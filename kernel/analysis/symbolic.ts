/**
 * Symbolic batch: the graph is prepared (shape inference + constant folding) at several probe
 * batches and every dimension is expressed as a linear form a·N + b. A dimension that follows
 * the batch shows up as "N", one the batch was folded into as "512N", a fixed one as a number.
 * Folded constants whose values differ between probes are shape values that depend on N.
 */
import { ConstTensor, Graph, Node, PortRef, nodeMap } from "../graph/graph";
import { ModelError } from "../errors";
import { prepare } from "../graph/prepare";
import type { CustomOpDef } from "../graph/ops/types";

/** Probe batches: two determine a linear form, the third checks it. Small and distinct so no dim equals N by chance. */
export const PROBE_BATCHES = [3, 5, 7];

/** A dimension a·N + b. */
export interface Lin {
  a: number;
  b: number;
}

/** What flows through a port: values computed from the input ("data"), a shape value depending on N, or a constant. */
export type Kind = "data" | "shape" | "const";

export function isN(d: Lin | null | undefined): boolean {
  return !!d && d.a === 1 && d.b === 0;
}

export function dependsOnN(d: Lin | null | undefined): boolean {
  return !d || d.a !== 0;
}

/** "N", "2N", "512N+3", or the fixed number; "?" when the dim is not linear in N. */
export function formatDim(d: Lin | null): number | string {
  if (!d) return "?";
  if (d.a === 0) return d.b;
  const coef = d.a === 1 ? "N" : d.a === -1 ? "-N" : `${d.a}N`;
  return d.b === 0 ? coef : d.b > 0 ? `${coef}+${d.b}` : `${coef}${d.b}`;
}

export function formatShape(s: (Lin | null)[] | null): string {
  return s ? `[${s.map(formatDim).join(",")}]` : "[?]";
}

/** Input shapes chosen by the user (CNNNetwork reshape), keyed by input name; the batch axis is then replaced by N. */
export interface ShapeOptions {
  inputShapes?: Record<string, number[]>;
  /** Ops registered by extensions (ie.addExtension), by layer type. */
  customOps?: ReadonlyMap<string, CustomOpDef>;
}

/** Graphs prepared at the requested batches, with the layers that could not be prepared cut out. */
export interface TolerantPrep {
  graphs: Graph[];
  /** Layer id → why shape inference failed for it (at which batch). */
  failed: Map<number, string>;
  /** Layer id → id of the failed layer it depends on; these were not prepared. */
  skipped: Map<number, number>;
}

function layerReason(e: ModelError): string {
  const prefix = `layer '${e.layer}': `;
  const at = e.message.indexOf(prefix);
  return at >= 0 ? e.message.slice(at + prefix.length) : e.message;
}

/**
 * Prepares `g` at each batch (undefined: the model's own). A layer whose shape inference fails
 * (a fixed Reshape target at another batch, an op prepare() does not know) is an unsupported
 * layer, not a broken model: it is recorded and cut out with everything downstream, and the
 * rest is prepared again. Other errors (a malformed model, an error naming no layer) are a
 * broken graph and are rethrown.
 */
export function prepareTolerant(g: Graph, batches: (number | undefined)[], opts: ShapeOptions = {}): TolerantPrep {
  const failed = new Map<number, string>();
  const skipped = new Map<number, number>();
  let work = g;
  for (;;) {
    const graphs: Graph[] = [];
    let error: ModelError | undefined;
    let batchAt: number | undefined;
    for (const b of batches) {
      try {
        graphs.push(prepare(work, { inputShapes: opts.inputShapes, batch: b, customOps: opts.customOps }));
      } catch (e) {
        const tolerated = e instanceof ModelError && (e.code === "SHAPE_INFERENCE" || e.code === "UNSUPPORTED_OP");
        if (!tolerated || e.layer === undefined) throw e;
        error = e;
        batchAt = b;
        break;
      }
    }
    if (!error) return { graphs, failed, skipped };
    const bad = work.nodes.find((n) => n.name === error!.layer);
    if (!bad) throw error;
    failed.set(bad.id, (batchAt === undefined ? "" : `at N=${batchAt}: `) + layerReason(error));
    const cut = new Set([bad.id]);
    for (const n of work.nodes) {
      if (!cut.has(n.id) && n.inputs.some((r) => cut.has(r.node))) {
        cut.add(n.id);
        skipped.set(n.id, bad.id);
      }
    }
    work = { ...work, nodes: work.nodes.filter((n) => !cut.has(n.id)) };
  }
}

function sameTensor(x: ConstTensor, y: ConstTensor): boolean {
  if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) return false;
  if (x.data.length !== y.data.length) return false;
  for (let i = 0; i < x.data.length; i++) {
    if (x.data[i] !== y.data[i] && !(Number.isNaN(x.data[i]) && Number.isNaN(y.data[i]))) return false;
  }
  return true;
}

function linear(values: number[]): Lin | null {
  const [n0, n1] = PROBE_BATCHES;
  const a = (values[1] - values[0]) / (n1 - n0);
  const b = values[0] - a * n0;
  if (!Number.isInteger(a) || !Number.isInteger(b)) return null;
  return PROBE_BATCHES.every((n, i) => a * n + b === values[i]) ? { a, b } : null;
}

/** The graph with a symbolic batch N: per port, its dims as linear forms and what kind of value it carries. */
export class SymbolicGraph {
  readonly graphs: Graph[];
  readonly failed: Map<number, string>;
  readonly skipped: Map<number, number>;
  private readonly maps: Map<number, Node>[];
  private readonly dimsOf = new Map<number, ((Lin | null)[] | null)[]>();
  private readonly kindsOf = new Map<number, Kind[]>();

  constructor(g: Graph, opts: ShapeOptions = {}) {
    const prep = prepareTolerant(g, PROBE_BATCHES, opts);
    this.graphs = prep.graphs;
    this.failed = prep.failed;
    this.skipped = prep.skipped;
    this.maps = this.graphs.map((x) => nodeMap(x));
    for (const n of this.graphs[0].nodes) {
      this.dimsOf.set(
        n.id,
        n.outputs.map((_, p) => this.linearShape(n.id, p)),
      );
      this.kindsOf.set(
        n.id,
        n.outputs.map((_, p) => this.computeKind(n, p)),
      );
    }
  }

  /** The node as prepared at the first probe batch (undefined for failed/skipped layers). */
  node(id: number): Node | undefined {
    return this.maps[0].get(id);
  }

  /** Dims of output `port` of node `id`; null when the rank changes with N. */
  dims(ref: PortRef): (Lin | null)[] | null {
    return this.dimsOf.get(ref.node)?.[ref.port] ?? null;
  }

  kind(ref: PortRef): Kind {
    return this.kindsOf.get(ref.node)?.[ref.port] ?? "data";
  }

  /** The constant value on `ref` at the first probe batch, if its producer is a Const or was folded. */
  value(ref: PortRef): ConstTensor | undefined {
    const n = this.maps[0].get(ref.node);
    if (!n) return undefined;
    return n.type === "Const" ? n.value : n.folded?.[ref.port];
  }

  /** The constant value on `ref` at every probe batch (for showing how a shape value depends on N). */
  values(ref: PortRef): (ConstTensor | undefined)[] {
    return this.maps.map((m) => {
      const n = m.get(ref.node);
      return n?.type === "Const" ? n.value : n?.folded?.[ref.port];
    });
  }

  private linearShape(id: number, port: number): (Lin | null)[] | null {
    const shapes = this.maps.map((m) => m.get(id)?.outputs[port]?.shape);
    const first = shapes[0];
    if (!first || shapes.some((s) => !s || s.length !== first.length)) return null;
    return first.map((_, axis) => linear(shapes.map((s) => s![axis])));
  }

  private computeKind(n: Node, port: number): Kind {
    if (n.type === "Parameter") return "data";
    if (n.type === "Const") return "const";
    if (n.folded) {
      const vals = this.maps.map((m) => m.get(n.id)?.folded?.[port]);
      const v0 = vals[0];
      return v0 && vals.every((v) => v !== undefined && sameTensor(v0, v)) ? "const" : "shape";
    }
    if (n.type === "ShapeOf") {
      const d = this.dims(n.inputs[0]);
      return d && d.every((x) => !dependsOnN(x)) ? "const" : "shape";
    }
    const kinds = n.inputs.map((r) => this.kind(r));
    if (kinds.includes("data")) return "data";
    return kinds.includes("shape") ? "shape" : "const";
  }
}

/**
 * For every node id of `g` (as read, or prepared) and each of its outputs: whether the tensor
 * carries data whose axis 0 is exactly the batch N, so the native program scales it with the
 * run's batch. Constants, shape values and layers that cannot take a symbolic batch are false.
 */
export function batchAxes(g: Graph, opts: ShapeOptions = {}): Map<number, boolean[]> {
  const sym = new SymbolicGraph(g, opts);
  const out = new Map<number, boolean[]>();
  for (const n of g.nodes) {
    out.set(
      n.id,
      n.outputs.map((_, port) => {
        const ref = { node: n.id, port };
        const d = sym.dims(ref);
        return !!sym.node(n.id) && sym.kind(ref) === "data" && !!d && d.length > 0 && isN(d[0]);
      }),
    );
  }
  return out;
}
