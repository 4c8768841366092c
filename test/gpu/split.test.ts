// A split network on the GPU plugin (pocl when there is no GPU): the body and the per-sample tail
// run on the same device through the same split program as on the CPU, and batch n equals n
// batch-1 runs of the original on the CPU (face detection: the original at a static batch n).
import { GPU_SKIP } from "./env";
import { test } from "node:test";
import assert from "node:assert/strict";
import { CNNNetwork, IECore, SplitNetwork } from "../../kernel";
import { PortRef } from "../../kernel/graph/graph";
import { GraphBuilder } from "../helpers/graph_builder";
import { irPath, maxRelDiff, randomData } from "../helpers/models";

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

test(
  "GPU split: face detection runs 2 frames in one request; its rows equal the CPU's original at a static batch 2",
  { skip: GPU_SKIP },
  async () => {
    const ie = new IECore();
    const net = await ie.readNetwork(irPath("face-detection-adas-0001"));
    const { network } = await net.fixForDynamicBatch();
    network.batchSize = 2;
    const req = (await ie.loadNetwork(network, "GPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    const size = 3 * 384 * 672;
    // A smooth pattern the detector finds boxes in (as in test/analysis/split_run.test.ts).
    const x = Float32Array.from({ length: 2 * size }, (_, i) => 128 + 127 * Math.sin(i * 0.0007 + Math.floor(i / size)));
    req.setBatch(2);
    req.setInput("data", x);
    await req.infer();
    net.batchSize = 2;
    const cpu = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    cpu.setInput("data", x);
    await cpu.infer();
    net.batchSize = 1;
    const rows = (d: Float32Array) => {
      let r = 0;
      while (r * 7 < d.length && d[r * 7] >= 0) r++;
      return r;
    };
    const got = req.getBlob("detection_out").data;
    const want = cpu.getBlob("detection_out").data;
    assert.ok(rows(want) > 2, `expected detections in the test pattern, got ${rows(want)}`);
    assert.equal(rows(got), rows(want));
    const err = maxRelDiff(got.subarray(0, 7 * rows(want)), want.subarray(0, 7 * rows(want)));
    assert.ok(err <= 1e-4, `GPU split rows differ from the CPU's batch-2 original by ${err}`);
  },
);
