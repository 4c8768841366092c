/** The bundled models the fuzzer mutates: every FP16 IR, the FP32 eye IR and the eye ONNX. */
import * as path from "path";

export interface CorpusModel {
  /** Short name used on the command line and in the JSON lines. */
  id: string;
  format: "ir" | "onnx";
  /** The .xml or .onnx file. */
  file: string;
  /** Whether the unmutated model loads with DYN_BATCH_ENABLED (its topology allows a dynamic batch). */
  dynamic: boolean;
}

const MODELS_DIR = path.resolve(__dirname, "../../../models");

function ir(name: string, precision: "FP16" | "FP32", dynamic: boolean): CorpusModel {
  return {
    id: `${name}/${precision}`,
    format: "ir",
    file: path.join(MODELS_DIR, name, precision, `${name}.xml`),
    dynamic,
  };
}

export const CORPUS: readonly CorpusModel[] = [
  // DetectionOutput mixes samples: this model never loads with DYN_BATCH_ENABLED.
  ir("face-detection-adas-0001", "FP16", false),
  ir("head-pose-estimation-adas-0001", "FP16", true),
  ir("landmarks-regression-retail-0009", "FP16", true),
  ir("open-closed-eye-0001", "FP16", true),
  ir("open-closed-eye-0001", "FP32", true),
  {
    id: "open-closed-eye-0001/onnx",
    format: "onnx",
    file: path.join(MODELS_DIR, "open-closed-eye-0001", "onnx", "open-closed-eye.onnx"),
    dynamic: true,
  },
];

/** The corpus entries named by id (all of them when `ids` is empty); throws on an unknown id. */
export function selectModels(ids: string[]): CorpusModel[] {
  if (ids.length === 0) return [...CORPUS];
  return ids.map((id) => {
    const m = CORPUS.find((c) => c.id === id || c.id.startsWith(`${id}/`));
    if (!m) throw new Error(`unknown model '${id}'; known: ${CORPUS.map((c) => c.id).join(", ")}`);
    return m;
  });
}
