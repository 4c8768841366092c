/**
 * Rewrite "transpose-keep-batch": the q/k/v split of attention blocks as PyTorch and Paddle export
 * them. `Reshape [N,T,3,H,D] → Transpose [2,0,3,1,4]` puts the batch on axis 1, and Slice,
 * StridedSlice, Gather or Split on axis 0 (then Squeeze of axis 0) pick q, k and v, which brings it
 * back to axis 0. Swapping
 * perm[0] and perm[1] keeps the batch first, and the same selections on axis 1 then give exactly
 * the tensors they gave before, so nothing downstream changes. Any perm with the batch landing on
 * axis 1 qualifies when every reader drops axis 0 that way; anything else is refused with why.
 */
import { Graph, Node, PortRef } from "../graph/graph";
import { attrInts, attrNum } from "../graph/attrs";
import { constAt, Rewrite, setConstInput } from "./fix_edit";

/** Axes 0 and 1 trade places; the others stay. */
const swap = (a: number) => (a === 0 ? 1 : a === 1 ? 0 : a);
const norm = (a: number, rank: number) => (a < 0 ? a + rank : a);

/** One edit of a reader: a new constant on one of its inputs. */
interface Edit {
  node: Node;
  port: number;
  values: number[];
  suffix: string;
  scalar: boolean;
  attrs?: Record<string, string>;
}

/** What a selection along axis 0 becomes, or why it cannot move to axis 1. */
interface Selection {
  edits: Edit[];
  /** The reader's output ports that still hold axis 0 (size 1): a Squeeze must drop it. */
  kept: number[];
  label: string;
}

const sameRef = (a: PortRef, b: PortRef) => a.node === b.node && a.port === b.port;

/** The layers reading `ref`, or why one of them reads it other than as its data input. */
function readers(g: Graph, ref: PortRef): Node[] | string {
  const out = g.nodes.filter((n) => n.inputs.some((r) => sameRef(r, ref)));
  const odd = out.find((n) => !sameRef(n.inputs[0], ref) || n.inputs.slice(1).some((r) => sameRef(r, ref)));
  return odd ? `'${odd.name}' (${odd.type}) reads it other than as its data input` : out;
}

function ints(prepared: Map<number, Node>, ref: PortRef | undefined): number[] | undefined {
  const v = constAt(prepared, ref);
  return v && Array.from(v.data);
}

/** The edit of one reader of the transposed tensor (rank `rank`), or why it is not a selection along axis 0. */
function selection(c: Node, rank: number, prepared: Map<number, Node>): Selection | string {
  const who = `'${c.name}' (${c.type})`;
  if (c.type === "Slice") {
    const start = ints(prepared, c.inputs[1]);
    if (!start) return `${who}: its starts are not a constant`;
    const given = c.inputs[4] && ints(prepared, c.inputs[4]);
    if (c.inputs[4] && !given) return `${who}: its axes are not a constant`;
    const axes = (given ?? start.map((_, i) => i)).map((a) => norm(a, rank));
    if (axes.includes(1)) return `${who} slices axis 1, where the batch is`;
    return {
      edits: [{ node: c, port: 4, values: axes.map(swap), suffix: "batch_axes", scalar: false }],
      kept: [0],
      label: "Slice",
    };
  }
  if (c.type === "StridedSlice") return stridedSlice(c, prepared);
  if (c.type === "Gather") {
    const axis = ints(prepared, c.inputs[2]);
    if (!axis || axis.length !== 1) return `${who}: its axis is not a constant`;
    if (norm(axis[0], rank) !== 0) return `${who} gathers along axis ${axis[0]}, not axis 0`;
    if (attrNum(c.attrs, "batch_dims", 0) !== 0) return `${who} has batch_dims`;
    const idx = prepared.get(c.inputs[1].node)?.outputs[c.inputs[1].port].shape;
    const scalar = constAt(prepared, c.inputs[2])?.shape.length === 0;
    const edits = [{ node: c, port: 2, values: [1], suffix: "batch_axis", scalar }];
    // A scalar index drops axis 0 itself; one index keeps it with size 1 for a Squeeze to drop.
    if (idx?.length === 0) return { edits, kept: [], label: "Gather" };
    if (idx?.length === 1 && idx[0] === 1) return { edits, kept: [0], label: "Gather" };
    return `${who} picks indices of shape [${idx}] along axis 0: they would stay ahead of the batch`;
  }
  if (c.type === "Split" || c.type === "VariadicSplit") {
    const axis = ints(prepared, c.inputs[1]);
    if (!axis || axis.length !== 1) return `${who}: its axis is not a constant`;
    if (norm(axis[0], rank) !== 0) return `${who} splits along axis ${axis[0]}, not axis 0`;
    const scalar = constAt(prepared, c.inputs[1])?.shape.length === 0;
    return {
      edits: [{ node: c, port: 1, values: [1], suffix: "batch_axis", scalar }],
      kept: c.outputs.map((_, p) => p),
      label: c.type,
    };
  }
  return `${who} reads it: only Slice, StridedSlice, Gather and Split along axis 0 (then Squeeze of axis 0) are moved to axis 1`;
}

const MASKS = ["begin_mask", "end_mask", "shrink_axis_mask"];

/**
 * A StridedSlice with one spec entry per axis whose entry for axis 1 (if any) takes it whole (both
 * masks set, stride 1): its spec entries 0 and 1 trade places. A shrink of axis 0 drops the axis
 * itself, as a scalar Gather does.
 */
function stridedSlice(c: Node, prepared: Map<number, Node>): Selection | string {
  const who = `'${c.name}' (StridedSlice)`;
  const spec = [1, 2, 3].map((i) => (c.inputs[i] ? ints(prepared, c.inputs[i]) : undefined));
  const [begin, end] = spec;
  if (!begin || !end) return `${who}: its begin and end are not constants`;
  const stride = spec[2] ?? begin.map(() => 1);
  const n = begin.length;
  const mask = (key: string) => Array.from({ length: n }, (_, i) => attrInts(c.attrs, key, [])[i] ?? 0);
  if ([...mask("new_axis_mask"), ...mask("ellipsis_mask")].some((b) => b !== 0))
    return `${who} adds axes or has an ellipsis: only a per-axis spec is moved to axis 1`;
  const shrink = mask("shrink_axis_mask");
  if (shrink.slice(1).some((b) => b !== 0)) return `${who} drops an axis other than 0`;
  if (n >= 2 && !(mask("begin_mask")[1] && mask("end_mask")[1] && stride[1] === 1))
    return `${who} slices axis 1, where the batch is`;
  // Entry 1 of a one-entry spec: axis 1 whole (masks set, which ignore begin and end).
  const pad = (v: number[], whole: number) => (n >= 2 ? v : [...v, whole]);
  const swapped = (v: number[]) => [v[1], v[0], ...v.slice(2)];
  const values = [pad(begin, 0), pad(end, 0), pad(stride, 1)].map(swapped);
  const attrs = Object.fromEntries(MASKS.map((k) => [k, swapped(pad(mask(k), k === "shrink_axis_mask" ? 0 : 1)).join(",")]));
  const names = ["batch_begin", "batch_end", "batch_stride"];
  const edits: Edit[] = values.map((v, i) => ({ node: c, port: i + 1, values: v, suffix: names[i], scalar: false }));
  edits[0].attrs = attrs;
  return { edits, kept: shrink[0] ? [] : [0], label: "StridedSlice" };
}

/** The Squeeze edits dropping axis 0 of `ref` (rank `rank`), or why a reader does something else. */
function squeezes(g: Graph, ref: PortRef, rank: number, prepared: Map<number, Node>): Edit[] | string {
  const rs = readers(g, ref);
  if (typeof rs === "string") return rs;
  const edits: Edit[] = [];
  for (const s of rs) {
    const who = `'${s.name}' (${s.type})`;
    if (s.type !== "Squeeze") return `${who} reads a selection that still holds axis 0: only a Squeeze of axis 0 may`;
    if (!s.inputs[1]) return `${who} has no axes: it drops every axis of size 1, whichever they are`;
    const axes = ints(prepared, s.inputs[1])?.map((a) => norm(a, rank));
    if (!axes) return `${who}: its axes are not a constant`;
    if (!axes.includes(0)) return `${who} does not drop axis 0`;
    if (axes.includes(1)) return `${who} drops axis 1, where the batch is`;
    const scalar = constAt(prepared, s.inputs[1])?.shape.length === 0;
    edits.push({ node: s, port: 1, values: axes.map(swap), suffix: "batch_axes", scalar });
  }
  return edits;
}

/**
 * The rewrite of Transpose `node` in `g` (prepared at the model's batch in `prepared`) that keeps
 * the batch on axis 0, or why there is none.
 */
export function transposeRewrite(node: Node, g: Graph, prepared: Map<number, Node>): Rewrite | string {
  const p = prepared.get(node.id);
  const inShape = prepared.get(node.inputs[0].node)?.outputs[node.inputs[0].port].shape;
  if (!p || !inShape) return "its shapes cannot be inferred at the model's own batch";
  const rank = inShape.length;
  let perm = ints(prepared, node.inputs[1]);
  if (!perm) return "its permutation is not a constant";
  if (perm.length === 0) perm = Array.from({ length: rank }, (_, i) => rank - 1 - i);
  perm = perm.map((a) => norm(a, rank));
  const at = perm.indexOf(0);
  if (at === 0) return `perm [${perm}] keeps axis 0 first: what blocks it comes from its input`;
  if (at !== 1)
    return `perm [${perm}] moves axis 0 to axis ${at}: dropping axis 0 afterwards would still leave the batch on axis ${at - 1}`;
  const rs = readers(g, { node: node.id, port: 0 });
  if (typeof rs === "string") return rs;
  if (rs.length === 0) return "nothing reads it";
  const edits: Edit[] = [];
  const swapped = [node.id];
  const labels = new Map<string, number>();
  for (const c of rs) {
    const sel = selection(c, rank, prepared);
    if (typeof sel === "string") return sel;
    edits.push(...sel.edits);
    if (sel.kept.length) swapped.push(c.id);
    labels.set(sel.label, (labels.get(sel.label) ?? 0) + 1);
    for (const port of sel.kept) {
      const sq = squeezes(g, { node: c.id, port }, rank, prepared);
      if (typeof sq === "string") return sq;
      edits.push(...sq);
      labels.set("Squeeze", (labels.get("Squeeze") ?? 0) + sq.length);
    }
  }
  const next = [perm[1], perm[0], ...perm.slice(2)];
  const outShape = p.outputs[0].shape;
  const nextShape = [outShape[1], outShape[0], ...outShape.slice(2)];
  const what = [...labels].map(([k, n]) => `${k}×${n}`).join(", ");
  return {
    kind: "transpose-keep-batch",
    before: `Transpose [${perm}] → [${outShape}] (batch on axis 1); ${what} on axis 0`,
    after: `Transpose [${next}] → [${nextShape}] (batch on axis 0); ${what} on axis 1`,
    swapped,
    touched: [...new Set([...swapped, ...edits.map((e) => e.node.id)])],
    apply: (graph) => {
      let out = setConstInput(graph, node, 1, next, "batch_perm");
      for (const e of edits) out = setConstInput(out, e.node, e.port, e.values, e.suffix, e.attrs, e.scalar);
      return out;
    },
  };
}
