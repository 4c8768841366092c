// ESLint for kernel/ and test/: TypeScript's recommended rules, no import cycles, and imports in
// kernel/ that only point down the layers below. Formatting is Prettier's job (.prettierrc), not
// ESLint's. Run by `npm run lint` (part of `npm test`).
import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

// kernel/'s layers, lowest first: a folder (or top-level file) may import from strictly lower
// layers only, never from its own layer's siblings or from above. Why this order:
// - errors.ts, schema.ts, dict.ts, random.ts: plain types and helpers every layer uses.
// - graph/: the in-memory network and its ops' shape inference; op files depend on types only.
// - readers/: IR and ONNX into a graph; readers/onnx-proto.ts is the ONNX protobuf schema.
// - serialize/ (writes IR and ONNX, with the readers' ONNX schema) and analysis/ (dynamic-batch
//   analyses of a graph).
// - plugins/: lowering a graph to the CPU and GPU addons.
// - runtime/: the Inference Engine API (IECore, networks, requests) over readers, analyses and
//   plugins. It must not know the bench: the bench takes an IECore.
// - display/, video/: what users see and the video I/O, beside each other.
// - bench/, cascade/, fuzz/, soak/: benchmarks, the face cascade, the fuzzer and the soak, built on the runtime.
// - batching/: the request-coalescing batcher (ExecutableNetwork.createBatcher, the BATCH:
//   device), its load generator and simulator. Above the bench, whose statistics
//   and latency reports it uses; the cascade reaches it through the BATCH: device, not by import.
// - int8/: calibration samples from the cascade on a video and INT8-vs-FP32 accuracy, beside batching/.
// - cli/, index.ts: entry points, free to import anything.
const LAYERS = [
  ["errors.ts", "schema.ts", "dict.ts", "random.ts"],
  ["graph"],
  ["readers"],
  ["serialize", "analysis"],
  ["plugins"],
  ["runtime"],
  ["display", "video"],
  ["bench", "cascade", "fuzz", "soak"],
  ["batching", "int8"],
  ["cli", "index.ts"],
];

const path = (entry) => `./kernel/${entry}`;
const layerZones = LAYERS.flatMap((layer, rank) =>
  layer.map((entry) => ({
    target: path(entry),
    from: [...LAYERS.slice(rank + 1).flat(), ...layer.filter((other) => other !== entry)].map(path),
    message: `kernel/${entry} sits below the imported module's layer (see LAYERS in eslint.config.mjs).`,
  })),
);

// Within graph/: the op files take InferCtx/OpDef from ops/types.ts; only the registry imports them.
const opZones = [
  {
    target: "./kernel/graph/ops",
    from: "./kernel/graph/ops/registry.ts",
    message: "op files depend on types only (ops/types.ts); the registry imports them, not the other way round.",
  },
];

// Within plugins/: the CPU and GPU plugins share lowering (plugins/lower/), the addon typings and
// the plugin contract (plugins/*.ts) and never import each other; the shared code knows neither.
// Only plugins/index.ts, which lists the plugins, imports them.
const shared = "shared plugin code belongs beside plugins/plugin.ts and knows no device.";
const pluginZones = [
  { target: "./kernel/plugins/cpu", from: "./kernel/plugins/gpu", message: shared },
  { target: "./kernel/plugins/gpu", from: "./kernel/plugins/cpu", message: shared },
  ...["lower", "plugin.ts", "native.ts"].map((entry) => ({
    target: `./kernel/plugins/${entry}`,
    from: ["./kernel/plugins/cpu", "./kernel/plugins/gpu"],
    message: shared,
  })),
];

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "build/",
      "node_modules/",
      "extension/",
      "lab/",
      "notebooks/",
      "models/",
      "media/",
      "test-artifacts/",
      "test/browser/harness/",
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      // import-x parses the imported .ts files itself (to follow cycles), with TypeScript's parser.
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".d.ts", ".js", ".json", ".node"] })],
    },
    rules: {
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": ["error", { zones: [...layerZones, ...opZones, ...pluginZones] }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // Off: `req = null` drops a reference on purpose (GC tests), and `let x = 0` before a switch
      // reads plainly.
      "no-useless-assignment": "off",
      // Off: a test rethrowing with the stack in its message needs no `cause`.
      "preserve-caught-error": "off",
      // Off: spaces in a regex that matches a fixed-width text table are the table's own layout.
      "no-regex-spaces": "off",
    },
  },
);
