/**
 * A run split by layers keeps the other threads of its OpenMP team off the CPU of the thread that
 * opens the team (native/src/cpu_affinity.h), seen from outside through /proc: the process's
 * threads and the CPUs each may use. Its own file, so no run split by samples (whose helpers are
 * restricted the same way) shares the process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import { IECore } from "../../kernel";
import { allowedCpus, cpuList } from "../helpers/cpus";
import { irPath, maxRelDiff, randomData } from "../helpers/models";

/** Per thread of this process, the CPUs it may run on. */
function threadCpus(): number[][] {
  return fs.readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      return [allowedCpus(`/proc/self/task/${tid}/status`)];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

test("cpuList reads ranges and single CPUs", () => {
  assert.deepEqual(cpuList("0-3,6\n"), [0, 1, 2, 3, 6]);
  assert.deepEqual(cpuList("1"), [1]);
});

test("after a two-thread run split by layers, its team's other thread avoids one CPU and results are unchanged", async (t) => {
  const all = allowedCpus();
  if (os.availableParallelism() < 2 || all.length < 2) return t.skip("one CPU: nothing to keep the team off");
  const restricted = () => threadCpus().filter((c) => c.length < all.length);
  assert.deepEqual(restricted(), [], "no thread is restricted before the first run");
  const ie = new IECore();
  const net = await ie.readNetwork(irPath("head-pose-estimation-adas-0001"));
  net.batchSize = 2;
  const data = randomData(2 * 3 * 60 * 60, 14);
  const outputs = async (threads: number) => {
    const req = (await ie.loadNetwork(net, "CPU", { CPU_THREADS_NUM: threads, CPU_PARALLEL: "LAYERS" })).createInferRequest();
    req.setInput(Object.keys(net.inputs)[0], data);
    await req.infer();
    return Object.keys(net.outputs).map((o) => Float32Array.from(req.getBlob(o).data));
  };
  const [one, two] = [await outputs(1), await outputs(2)];
  one.forEach((y, k) => assert.ok(maxRelDiff(two[k], y) <= 1e-5, `output ${k}: ${maxRelDiff(two[k], y)}`));
  const kept = restricted();
  assert.ok(kept.length >= 1, "the team's second thread is restricted");
  for (const cpus of kept) {
    assert.equal(cpus.length, all.length - 1, `${cpus} of ${all}`);
    assert.ok(cpus.every((c) => all.includes(c)));
  }
});
