/**
 * onnxruntime-node for the bench: loaded only when present (a devDependency), and its sessions
 * made the same way for every measurement. Not part of the package's public types, which must
 * not name a module a user may not have installed.
 */
import { CNNNetwork } from "../runtime/network";
import { networkToONNX } from "../serialize";

export type OrtModule = typeof import("onnxruntime-node");
export type OrtSession = Awaited<ReturnType<OrtModule["InferenceSession"]["create"]>>;

/** onnxruntime-node is optional: a missing package means no "ort" points, not a failure. */
export function loadOrt(): OrtModule | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("onnxruntime-node") as OrtModule;
  } catch {
    return undefined;
  }
}

/**
 * An ONNX session on the model: the file itself when its batch is symbolic, else the network exported by dynbatch.
 * `profilePrefix` turns on onnxruntime's own per-node profiling into files starting with it.
 */
export async function ortSession(
  ort: OrtModule,
  net: CNNNetwork,
  file: string | undefined,
  threads: number,
  profilePrefix?: string,
) {
  const symbolic = net.graph.nodes.filter((n) => n.type === "Parameter").every((p) => (p.outputs[0].shape[0] ?? 0) < 0);
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential" as const,
    graphOptimizationLevel: "all" as const,
    // ORT's pool threads spin after each run and would slow whatever runs next: stop them.
    extra: { session: { force_spinning_stop: "1" } },
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  };
  return file && /\.onnx$/i.test(file) && symbolic
    ? ort.InferenceSession.create(file, options)
    : ort.InferenceSession.create(networkToONNX(net), options);
}
