/**
 * Bounded fuzzing: mutated bytes of the shared IR and ONNX files never crash the process; every
 * failure is a typed DynbatchError. DYNBATCH_QUICK=1 (CI) runs fewer cases.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynbatchError, IECore } from "../../kernel";
import { irPath, OPEN_CLOSED_EYE_ONNX } from "../helpers/models";
import { uniform } from "../../kernel/bench/random";

const CASES = process.env.DYNBATCH_QUICK ? 150 : 600;

/** Flips, overwrites, deletes or truncates a few bytes; text files get structural characters too. */
function mutate(src: Buffer, r: () => number, text: boolean): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * b.length);
    const kind = Math.floor(r() * 4);
    if (kind === 0) b[at] ^= 1 << Math.floor(r() * 8);
    else if (kind === 1) b[at] = text ? '<>"=/0123456789-,'.charCodeAt(Math.floor(r() * 17)) : Math.floor(r() * 256);
    else if (kind === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(r() * 16))]);
    else b = b.subarray(0, Math.max(at, 1));
  }
  return b;
}

async function attempt(ie: IECore, model: string): Promise<"ok" | "error"> {
  try {
    const net = await ie.readNetwork(model);
    const exec = await ie.loadNetwork(net, "CPU");
    const req = exec.createInferRequest();
    const [name, info] = Object.entries(exec.inputs)[0];
    req.setInput(name, new Float32Array(info.shape.reduce((a, d) => a * d, 1)).fill(1));
    await req.infer();
    return "ok";
  } catch (e) {
    if (!(e instanceof DynbatchError)) throw new Error(`untyped error for ${model}: ${(e as Error).stack}`);
    assert.ok(e.message.length > 0);
    return "error";
  }
}

test(`fuzz: ${CASES} mutated IR xml/bin and ONNX files give typed errors only`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-"));
  const xml = fs.readFileSync(irPath("open-closed-eye-0001", "FP32"));
  const bin = fs.readFileSync(irPath("open-closed-eye-0001", "FP32").replace(/\.xml$/, ".bin"));
  const onnx = fs.readFileSync(OPEN_CLOSED_EYE_ONNX);
  const r = uniform(20261125);
  const ie = new IECore();
  const tally = { ok: 0, error: 0 };
  for (let i = 0; i < CASES; i++) {
    const which = i % 3;
    let model: string;
    if (which === 2) {
      model = path.join(dir, `case${i}.onnx`);
      fs.writeFileSync(model, mutate(onnx, r, false));
    } else {
      model = path.join(dir, `case${i}.xml`);
      fs.writeFileSync(model, which === 0 ? mutate(xml, r, true) : xml);
      fs.writeFileSync(model.replace(/\.xml$/, ".bin"), which === 1 ? mutate(bin, r, false) : bin);
    }
    tally[await attempt(ie, model)]++;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(tally.ok + tally.error, CASES);
  assert.ok(tally.error > CASES / 10, `mutations should break many models (${JSON.stringify(tally)})`);
});
