/**
 * Regression tests for what `npm run fuzz` found outside the readers, each minimized to one edit
 * of a bundled IR.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynbatchError, IECore } from "../../kernel";
import { irPath } from "../helpers/models";

const HEAD_POSE = irPath("head-pose-estimation-adas-0001");

test("fuzz ir-shape: a MatMul whose weights are 1-D (legal, not implemented) is UNSUPPORTED_OP naming the layer, not NATIVE", async () => {
  const src = fs.readFileSync(HEAD_POSE, "utf8");
  // angle_p_fc's weights [1,512] become [512], on the Const and on its port.
  const text = src.replace(
    /(<layer id="129" [^>]*>\s*<data [^>]*shape=")1, 512("[^>]*>\s*<output>\s*<port [^>]*>\s*)<dim>1<\/dim>\s*/,
    "$1512$2",
  );
  assert.notEqual(text, src);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-fuzz-finding-"));
  try {
    fs.writeFileSync(path.join(dir, "case.xml"), text);
    const ie = new IECore();
    const net = await ie.readNetwork(path.join(dir, "case.xml"), HEAD_POSE.replace(/\.xml$/, ".bin"));
    await assert.rejects(ie.loadNetwork(net, "CPU"), (e: unknown) => {
      assert.ok(e instanceof DynbatchError, String(e));
      assert.equal(e.code, "UNSUPPORTED_OP");
      assert.match(e.message, /angle_p_fc\/WithoutBiases/);
      assert.match(e.message, /\[512\]/);
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
