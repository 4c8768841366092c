/** CNNNetwork.serialize(".xml"): IR v11 written, read back by dynbatch, same graph and the same outputs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CNNNetwork, IECore } from "../../kernel";
import { floatToHalf, graphToIR } from "../../kernel/serialize";
import { prepare } from "../../kernel/graph/prepare";
import { halfToFloat } from "../../kernel/readers";
import { irPath, OPEN_CLOSED_EYE_ONNX, randomData } from "../helpers/models";
import { GraphBuilder } from "../helpers/graph_builder";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynbatch-ir-"));
const ie = new IECore();

async function outputs(net: CNNNetwork, range: [number, number] = [0, 255]): Promise<Record<string, Float32Array>> {
  const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
  for (const [name, p] of Object.entries(net.inputs))
    req.setInput(
      name,
      randomData(
        p.shape.reduce((a, b) => a * b, 1),
        21,
        ...range,
      ),
    );
  await req.infer();
  return Object.fromEntries(Object.keys(net.outputs).map((o) => [o, Float32Array.from(req.getBlob(o).data)]));
}

/** Writes `net` as IR, reads it back and checks layers, constants, shapes and outputs. */
async function roundTrip(net: CNNNetwork, file: string, range?: [number, number]): Promise<void> {
  net.serialize(file);
  assert.ok(fs.existsSync(file.replace(/\.xml$/, ".bin")));
  const back = await ie.readNetwork(file);
  assert.equal(back.graph.format, "ir11");
  assert.equal(back.name, net.name);
  assert.deepEqual(back.layers, net.layers);
  const consts = (n: CNNNetwork) =>
    n.graph.nodes.filter((x) => x.type === "Const").map((x) => [x.name, x.value!.dtype, x.value!.shape]);
  assert.deepEqual(consts(back), consts(net));
  // Constant values are bit-identical, FP16 included (written as FP16 again).
  const values = (n: CNNNetwork) => n.graph.nodes.filter((x) => x.type === "Const").map((x) => Array.from(x.value!.data));
  assert.deepEqual(values(back), values(net));
  assert.deepEqual(back.inputs, net.inputs);
  assert.deepEqual(back.outputs, net.outputs);
  const [a, b] = [await outputs(net, range), await outputs(back, range)];
  for (const [name, v] of Object.entries(a)) assert.deepEqual(b[name], v, `output ${name}`);
}

for (const model of [
  "landmarks-regression-retail-0009",
  "head-pose-estimation-adas-0001",
  "open-closed-eye-0001",
  "face-detection-adas-0001",
]) {
  test(`${model}: IR round trip keeps layers, FP16 constants and outputs`, async () => {
    const net = await ie.readNetwork(irPath(model));
    if (model !== "face-detection-adas-0001") net.batchSize = 2;
    await roundTrip(net, path.join(dir, `${model}.xml`));
  });
}

test("an ONNX model written as IR reads back with the same outputs", async () => {
  const net = await ie.readNetwork(OPEN_CLOSED_EYE_ONNX);
  net.batchSize = 3;
  await roundTrip(net, path.join(dir, "open-closed-eye-from-onnx.xml"), [0, 1]);
});

test("IR text escapes names and attribute values; tensor names keep their commas", () => {
  const b = new GraphBuilder();
  const x = b.param(`in "<a&b>"`, [1, 2]);
  const y = b.op("ReLU", [x], {}, { name: "relu, 'quoted'" });
  b.result(y);
  const g = b.build();
  g.nodes[1].outputs[0].names = ["t,1", "t2"];
  // Prepared, so the ports carry the dims that readNetwork checks against shape inference.
  const { xml } = graphToIR(prepare(g));
  assert.match(xml, /name="in &quot;&lt;a&amp;b&gt;&quot;"/);
  assert.match(xml, /name="relu, &apos;quoted&apos;"/);
  assert.match(xml, /names="t\\,1,t2"/);
  const file = path.join(dir, "escaped.xml");
  fs.writeFileSync(file, xml);
  fs.writeFileSync(file.replace(/\.xml$/, ".bin"), Buffer.alloc(0));
  return ie.readNetwork(file).then((back) => {
    assert.deepEqual(
      back.layers.map((l) => l.name),
      [`in "<a&b>"`, "relu, 'quoted'", g.nodes[2].name],
    );
    assert.deepEqual(back.graph.nodes[1].outputs[0].names, ["t,1", "t2"]);
  });
});

test("floatToHalf inverts halfToFloat on every FP16 value and rounds to nearest even", () => {
  for (let h = 0; h < 0x10000; h++) {
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    if (isNaN) assert.ok(Number.isNaN(halfToFloat(floatToHalf(halfToFloat(h)))));
    else assert.equal(floatToHalf(halfToFloat(h)), h, `half 0x${h.toString(16)}`);
  }
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // halfway between 1 and the next half: ties to even (1)
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // halfway between 0x3c01 and 0x3c02: even
  assert.equal(floatToHalf(65519), 0x7bff);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds past the largest half: infinity
  assert.equal(floatToHalf(2 ** -25), 0x0000); // halfway to the smallest subnormal: even (zero)
  assert.equal(floatToHalf(1.5 * 2 ** -25), 0x0001);
  assert.equal(floatToHalf(-(2 ** -14)), 0x8400);
  assert.equal(floatToHalf(1e-9), 0x0000);
});
