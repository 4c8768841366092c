/** Arithmetic work of a prepared graph: 2 FLOPs per multiply-add of convolutions and matmuls. */
import { attrBool } from "../graph/attrs";
import { Graph, nodeMap } from "../graph/graph";
import { numel } from "../graph/ops/util";

export interface FlopCount {
  /** Total FLOPs of one run of the graph at its prepared shapes. */
  total: number;
  /** FLOPs per op type ("Convolution", "GroupConvolution", "MatMul", ...). */
  byType: Record<string, number>;
}

/**
 * Counts convolution, deconvolution and matmul FLOPs (2·MACs) over the nodes that run: folded
 * constant subgraphs cost nothing at run time. Other ops (eltwise, pooling) are not counted, as
 * benchmark tools report GFLOP/s.
 */
export function countFlops(g: Graph): FlopCount {
  const byId = nodeMap(g);
  const shape = (n: (typeof g.nodes)[number], i: number) => byId.get(n.inputs[i].node)!.outputs[n.inputs[i].port].shape;
  const byType: Record<string, number> = {};
  let total = 0;
  for (const n of g.nodes) {
    if (n.folded) continue;
    let macs = 0;
    switch (n.type) {
      case "Convolution": {
        // w [O, I, k...]: every output element sums I·k products.
        const w = shape(n, 1);
        macs = numel(n.outputs[0].shape) * numel(w.slice(1));
        break;
      }
      case "GroupConvolution": {
        // w [G, O/G, I/G, k...]
        const w = shape(n, 1);
        macs = numel(n.outputs[0].shape) * numel(w.slice(2));
        break;
      }
      case "ConvolutionBackpropData":
      case "GroupConvolutionBackpropData": {
        // Every input element scatters into O/G·k outputs: w [I, O, k...] or [G, I/G, O/G, k...].
        const w = shape(n, 1);
        macs = numel(shape(n, 0)) * numel(w.slice(n.type === "ConvolutionBackpropData" ? 1 : 2));
        break;
      }
      case "MatMul": {
        const a = shape(n, 0);
        const k = a.length === 1 ? a[0] : attrBool(n.attrs, "transpose_a", false) ? a[a.length - 2] : a[a.length - 1];
        macs = numel(n.outputs[0].shape) * k;
        break;
      }
      default:
        continue;
    }
    byType[n.type] = (byType[n.type] ?? 0) + 2 * macs;
    total += 2 * macs;
  }
  return { total, byType };
}
