/**
 * One ELK instance per page, running in a Web Worker so that laying out thousands of nodes
 * never blocks the page. The worker is made from a Blob of elkjs's own worker script (imported
 * as text), because a federated labextension has no separate worker file that JupyterLab would
 * serve. Where a worker cannot be made (a Content-Security-Policy without blob: workers, or a
 * bundler that could not inline the script), ELK runs on the main thread instead: slower to
 * show, the same picture.
 */
import type { ELK, ElkNode } from "elkjs/lib/elk-api";

/** Where layouts run: in a Web Worker or, as the fallback, on the page's own thread. */
export type EngineKind = "worker" | "main-thread";

interface Engine {
  kind: EngineKind;
  elk: ELK;
  /** Rejects when the worker itself fails (its script did not load or crashed). */
  failed: Promise<never>;
}

/** Only the layered (Sugiyama) algorithm is used: registering just it makes ELK start faster. */
const ALGORITHMS = ["layered"];

let current: Promise<Engine> | undefined;
/** The main-thread engine, made once: layouts that see the worker fail at the same time share it. */
let fallback: Promise<Engine> | undefined;

/** The worker itself failed, as opposed to one layout. */
class WorkerFailure extends Error {}

async function workerEngine(): Promise<Engine> {
  const { default: source } = await import("!!raw-loader!elkjs/lib/elk-worker.min.js");
  const { default: ElkApi } = await import("elkjs/lib/elk-api.js");
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // Only a worker-level failure rejects; it is observed by every layout racing against it.
  failed.catch(() => undefined);
  const elk = new ElkApi({
    algorithms: ALGORITHMS,
    workerFactory: () => {
      let worker: Worker;
      try {
        worker = new Worker(url);
      } finally {
        // The worker has its own reference to the script once created: the Blob need not outlive it.
        URL.revokeObjectURL(url);
      }
      worker.addEventListener("error", (e) => fail(new WorkerFailure(`ELK worker failed: ${e.message || "script error"}`)));
      return worker;
    },
  });
  return { kind: "worker", elk, failed };
}

async function mainThreadEngine(): Promise<Engine> {
  const { default: ElkBundled } = await import("elkjs/lib/elk.bundled.js");
  return { kind: "main-thread", elk: new ElkBundled({ algorithms: ALGORITHMS }), failed: new Promise<never>(() => undefined) };
}

function fallBack(): Promise<Engine> {
  fallback ??= mainThreadEngine();
  current = fallback;
  return fallback;
}

function engine(): Promise<Engine> {
  current ??= workerEngine().catch(() => fallBack());
  return current;
}

/** Lays out `graph` with ELK; falls back to the main thread once if the worker fails. */
export async function runElk(graph: ElkNode): Promise<{ result: ElkNode; engine: EngineKind }> {
  const e = await engine();
  try {
    const result = await Promise.race([e.elk.layout(graph), e.failed]);
    return { result, engine: e.kind };
  } catch (err) {
    if (!(err instanceof WorkerFailure)) throw err;
    e.elk.terminateWorker();
    const main = await fallBack();
    return { result: await main.elk.layout(graph), engine: main.kind };
  }
}
