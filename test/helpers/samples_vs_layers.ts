/**
 * Landmarks at a static batch of 5, run split by samples and by layers on two threads: how far
 * apart the outputs are, the samples' outputs, and the CPUs the sample helpers may use after
 * (native sampleTeamState).
 * A helper of its own so that a child process (pinned to one CPU) can run it without the tests.
 */
import { IECore } from "../../kernel";
import { loadAddon } from "../../kernel/plugins/native";
import { irPath, maxRelDiff, randomData } from "./models";

export async function samplesAgainstLayers(): Promise<{
  err: number;
  samples: Float32Array;
  helpers: number[];
  keptOff: number;
}> {
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("landmarks-regression-retail-0009"));
  net.batchSize = 5;
  const data = randomData(5 * 3 * 48 * 48, 12);
  const run = async (mode: string) => {
    const req = (await ie.loadNetwork(net, "CPU", { CPU_THREADS_NUM: 2, CPU_PARALLEL: mode })).createInferRequest();
    req.setInput("0", data);
    await req.infer();
    return Float32Array.from(req.getBlob("95").data);
  };
  const [layers, samples] = [await run("LAYERS"), await run("SAMPLES")];
  const { helpers, keptOff } = loadAddon().sampleTeamState();
  return { err: maxRelDiff(samples, layers), samples, helpers, keptOff };
}
