/**
 * The mutation kinds, the error codes each may cause, and the plan of one case: which model,
 * which kind, whether DYN_BATCH_ENABLED is on and the tiny maximum batch, all from (seed, index).
 */
import * as fs from "fs";
import * as path from "path";
import type { ErrorCode } from "../errors";
import { CorpusModel } from "./corpus";
import { flipBytes, truncateBytes } from "./mutate-bytes";
import { IrMutation, mutateIr } from "./mutate-ir";
import { mutateOnnx, OnnxMutation } from "./mutate-onnx";
import { intBelow, pick, Rng, rngFor } from "./rng";

export type InputFault = "input-length" | "input-nonfinite" | "input-batch" | "input-type";
export type MutationKind =
  IrMutation | OnnxMutation | InputFault | "ir-bytes" | "bin-bytes" | "bin-truncate" | "onnx-bytes" | "onnx-truncate";

/** Codes every kind that changes a model's layers, shapes or wiring can cause. */
const REWIRES: ErrorCode[] = ["BAD_MODEL", "UNSUPPORTED_OP", "SHAPE_INFERENCE", "DYN_BATCH_UNSUPPORTED_TOPOLOGY"];

/**
 * The codes each kind may cause; anything else is a finding. DYN_BATCH_UNSUPPORTED_TOPOLOGY is
 * listed where the mutation can change which layers mix samples (an axis, a Reshape target read
 * from the weights); for a model whose unmutated topology is unsupported it is always allowed.
 */
export const ALLOWED_CODES: Record<MutationKind, readonly ErrorCode[]> = {
  "ir-dim": ["BAD_MODEL", "SHAPE_INFERENCE"],
  // A legal change of rank can reach a form of an op the plugins do not implement (a 1-D MatMul operand).
  "ir-shape": ["BAD_MODEL", "UNSUPPORTED_OP", "SHAPE_INFERENCE", "DYN_BATCH_UNSUPPORTED_TOPOLOGY", "UNBOUND_SHAPE"],
  // An offset moved inside the file reads other weights, a Reshape target among them.
  "ir-bin-offset": ["BAD_MODEL", "SHAPE_INFERENCE", "DYN_BATCH_UNSUPPORTED_TOPOLOGY"],
  "ir-element-type": ["BAD_MODEL", "UNSUPPORTED_OP", "SHAPE_INFERENCE"],
  "ir-attribute": REWIRES,
  "ir-edge-dangling": ["BAD_MODEL"],
  "ir-edge-duplicate": ["BAD_MODEL"],
  "ir-edge-cycle": ["BAD_MODEL"],
  "ir-edge-self-loop": ["BAD_MODEL"],
  "ir-layer-type": REWIRES,
  "ir-version": ["BAD_MODEL", "UNSUPPORTED_OP"],
  "ir-bytes": REWIRES,
  // Flipped weights that are shape constants change shapes like an edited attribute does.
  "bin-bytes": ["BAD_MODEL", "SHAPE_INFERENCE", "DYN_BATCH_UNSUPPORTED_TOPOLOGY"],
  "bin-truncate": ["BAD_MODEL"],
  // -1 (or a removed dim_value) is a free dim: legal, and unbound until the user binds it.
  "onnx-dims": ["BAD_MODEL", "SHAPE_INFERENCE", "UNBOUND_SHAPE"],
  "onnx-initializer": ["BAD_MODEL", "SHAPE_INFERENCE"],
  "onnx-dtype": ["BAD_MODEL", "UNSUPPORTED_OP", "SHAPE_INFERENCE"],
  "onnx-attribute": REWIRES,
  // An extra input can fill an optional slot (a Conv's bias) with a tensor of the wrong shape.
  "onnx-node-io": ["BAD_MODEL", "SHAPE_INFERENCE"],
  "onnx-op-type": REWIRES,
  "onnx-opset": ["BAD_MODEL", "UNSUPPORTED_OP"],
  "onnx-bytes": REWIRES,
  "onnx-truncate": ["BAD_MODEL"],
  "input-length": ["BAD_INPUT"],
  "input-nonfinite": [],
  "input-batch": ["BATCH_OUT_OF_RANGE", "DYN_BATCH_NOT_ENABLED"],
  "input-type": ["BAD_INPUT"],
};

/**
 * Kinds that always leave an invalid model or call: ending ok is a finding (a cycle that loads,
 * a short input taken). Every ir-dim edit contradicts the shape the layer infers for that port.
 */
const NEVER_OK: readonly MutationKind[] = [
  "ir-dim",
  "ir-edge-dangling",
  "ir-edge-cycle",
  "ir-edge-self-loop",
  "input-length",
  "input-batch",
  "input-type",
];

export function mustFail(kind: MutationKind): boolean {
  return NEVER_OK.includes(kind);
}

const INPUT_FAULTS: InputFault[] = ["input-length", "input-nonfinite", "input-batch", "input-type"];
const IR_KINDS: MutationKind[] = [
  "ir-dim",
  "ir-shape",
  "ir-bin-offset",
  "ir-element-type",
  "ir-attribute",
  "ir-edge-dangling",
  "ir-edge-duplicate",
  "ir-edge-cycle",
  "ir-edge-self-loop",
  "ir-layer-type",
  "ir-version",
  "ir-bytes",
  "bin-bytes",
  "bin-truncate",
  ...INPUT_FAULTS,
];
const ONNX_KINDS: MutationKind[] = [
  "onnx-dims",
  "onnx-initializer",
  "onnx-dtype",
  "onnx-attribute",
  "onnx-node-io",
  "onnx-op-type",
  "onnx-opset",
  "onnx-bytes",
  "onnx-truncate",
  ...INPUT_FAULTS,
];

export function kindsFor(model: CorpusModel): MutationKind[] {
  return model.format === "ir" ? IR_KINDS : ONNX_KINDS;
}

export function isInputFault(kind: MutationKind): kind is InputFault {
  return (INPUT_FAULTS as string[]).includes(kind);
}

/** Whether `code` is a result `kind` may have on `model` with the given DYN_BATCH_ENABLED. */
export function codeAllowed(code: ErrorCode, kind: MutationKind, model: CorpusModel, dynBatch: boolean): boolean {
  if (code === "DYN_BATCH_UNSUPPORTED_TOPOLOGY" && dynBatch && !model.dynamic) return true;
  return ALLOWED_CODES[kind].includes(code);
}

export interface CasePlan {
  seed: number;
  index: number;
  model: CorpusModel;
  kind: MutationKind;
  dynBatch: boolean;
  maxBatch: number;
  /** Continues the case's random stream, for the mutation and the inputs. */
  r: Rng;
}

/** The case `index` of the run `seed`; `kinds` restricts the kinds drawn, and the models to those that take one. */
export function planCase(
  seed: number,
  index: number,
  models: readonly CorpusModel[],
  kinds: readonly MutationKind[] = [],
): CasePlan {
  const r = rngFor(seed, index);
  const wanted = (m: CorpusModel) => kindsFor(m).filter((k) => kinds.length === 0 || kinds.includes(k));
  const eligible = models.filter((m) => wanted(m).length > 0);
  if (eligible.length === 0)
    throw new Error(`no model among ${models.map((m) => m.id).join(", ")} takes the kinds ${kinds.join(", ")}`);
  const model = pick(r, eligible);
  const kind = pick(r, wanted(model));
  return { seed, index, model, kind, dynBatch: r() < 0.5, maxBatch: 1 + intBelow(r, 2), r };
}

export interface CaseFiles {
  model: string;
  /** The .bin to read, when it is not the one beside `model`. */
  weights?: string;
  detail: string;
  /** The mutation wrote a value no reader may accept: the case must not end ok. */
  malformed?: boolean;
}

const sources = new Map<string, Buffer>();

function source(file: string): Buffer {
  let b = sources.get(file);
  if (!b) sources.set(file, (b = fs.readFileSync(file)));
  return b;
}

/** Writes the plan's mutated model into `dir` (the model as bundled for an input fault). */
export function writeCase(plan: CasePlan, dir: string): CaseFiles {
  const { model, kind, r } = plan;
  if (isInputFault(kind)) return { model: model.file, detail: "unmutated model" };
  if (model.format === "onnx") {
    const src = source(model.file);
    const m: { bytes: Buffer; detail: string; malformed?: boolean } =
      kind === "onnx-bytes"
        ? flipBytes(src, r, false)
        : kind === "onnx-truncate"
          ? truncateBytes(src, r)
          : mutateOnnx(src, kind as OnnxMutation, r);
    const file = path.join(dir, "case.onnx");
    fs.writeFileSync(file, m.bytes);
    return { model: file, detail: m.detail, malformed: m.malformed };
  }
  const bin = model.file.replace(/\.xml$/, ".bin");
  const xmlFile = path.join(dir, "case.xml");
  if (kind === "bin-bytes" || kind === "bin-truncate") {
    const m = kind === "bin-bytes" ? flipBytes(source(bin), r, false) : truncateBytes(source(bin), r);
    const binFile = path.join(dir, "case.bin");
    fs.writeFileSync(binFile, m.bytes);
    fs.writeFileSync(xmlFile, source(model.file));
    return { model: xmlFile, weights: binFile, detail: m.detail };
  }
  if (kind === "ir-bytes") {
    const m = flipBytes(source(model.file), r, true);
    fs.writeFileSync(xmlFile, m.bytes);
    return { model: xmlFile, weights: bin, detail: m.detail };
  }
  const m = mutateIr(source(model.file), kind as IrMutation, r);
  fs.writeFileSync(xmlFile, m.bytes);
  return { model: xmlFile, weights: bin, detail: m.detail, malformed: m.malformed };
}
