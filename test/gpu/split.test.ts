// A split network on the GPU plugin (pocl when there is no GPU): the body and the per-sample tail
// run on the same device through the same split program as on the CPU, and batch n equals n
// batch-1 runs of the original on the CPU.
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, IECore, SplitNetwork } from "../../kernel";
import { PortRef } from "../../kernel/graph/graph";
import { GraphBuilder } from "../helpers/graph_builder";
import { maxRelDiff, randomData } from "../helpers/models";

const CONV = { strides: "1,1", dilations: "1,1", pads_begin: "1,1", pads_end: "1,1", auto_pad: "explicit" };

function conv(b: GraphBuilder, x: PortRef, cin: number, cout: number, seed: number): PortRef {
  const w = b.constant(randomData(cout * cin * 9, seed, -0.3, 0.3), [cout, cin, 3, 3], "f32");
  return b.op("Convolution", [x, w], CONV);
}

test(
  "GPU split: a ReduceSum over axis 0 in the tail; batch 3 equals 3 batch-1 CPU runs of the original",
  { skip: GPU_SKIP },
  async () => {
    const ie = new IECore();
    const b = new GraphBuilder("gpu_split");
    const c = conv(b, b.param("x", [1, 3, 6, 6]), 3, 4, 1);
    b.result(b.op("ReLU", [c]), "features");
    const sum = b.op("ReduceSum", [c, b.ints([0])], { keep_dims: true }, { name: "sum_over_batch" });
    b.result(b.op("Sigmoid", [conv(b, sum, 4, 2, 2)]), "scores");
    const net = new CNNNetwork(b.build());
    const { network } = await net.fixForDynamicBatch();
    assert.ok(network instanceof SplitNetwork);
    network.batchSize = 4;
    const req = (await ie.loadNetwork(network, "GPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const cpu = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    const x = randomData(3 * 108, 3, -1, 1);
    req.setBatch(3);
    req.setInput("x", x);
    await req.infer();
    for (let i = 0; i < 3; i++) {
      cpu.setInput("x", x.subarray(i * 108, (i + 1) * 108));
      await cpu.infer();
      for (const name of ["features", "scores"]) {
        const want = cpu.getBlob(name).data;
        const got = req.getBlob(name).data.subarray(i * want.length, (i + 1) * want.length);
        const err = maxRelDiff(got, want);
        assert.ok(err <= 1e-4, `sample ${i} ${name}: GPU split differs from the CPU's batch-1 run by ${err}`);
      }
    }
  },
);
