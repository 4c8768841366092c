/** What the CPU plugin's int8 rewrite makes of a network: its int8 layers and how they pass levels on. */
import { CNNNetwork } from "../../kernel";
import { int8Program } from "../../kernel/plugins/cpu/int8";
import { fuseProgram } from "../../kernel/plugins/cpu/fuse";
import { lowerGraph } from "../../kernel/plugins/lower";

/**
 * The `type` ops ("qconv", "qmatmul") of `net` lowered at batch 1, each as [name, writes the next
 * layer's u8 levels, reads u8 levels].
 */
export function int8Chain(net: CNNNetwork, type: string): [string, boolean, boolean][] {
  const lowered = lowerGraph(net.prepared(1), {
    maxBatch: 1,
    batched: null,
    threads: 1,
    independentSamples: false,
    parallel: "layers",
  });
  return int8Program(fuseProgram(lowered))
    .spec.ops.filter((o) => o.type === type)
    .map((o) => [o.name, o.attrs.dstGrid !== undefined, o.attrs.srcU8 === 1]);
}
