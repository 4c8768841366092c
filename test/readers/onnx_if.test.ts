/**
 * ONNX If with a condition that is a constant at read: after freezing, the condition computed from
 * the frozen input (Reshape → Gather → Equal, as PyTorch exports Silero's `sr == 16000`) folds, the
 * taken branch is converted inline (reading outer values by name, nested Ifs included) and the
 * result equals onnxruntime on the same file fed the same values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { IECore, UnsupportedError } from "../../kernel";
import { ATTR } from "../../kernel/readers/onnx/proto";
import { FLOAT, INT64, Obj, encode, floatTensor, int, int64Tensor, node, valueInfo, write } from "../helpers/onnx_spec";

const X = Float32Array.from([0.3, -1.2, 2.5, -0.7, 1.1, -3]);

function scalarInt64(name: string, v: number): Obj {
  const raw = Buffer.alloc(8);
  raw.writeBigInt64LE(BigInt(v));
  return { name, dims: [], data_type: INT64, raw_data: raw };
}

function branch(name: string, nodes: Obj[], output: string, inits: Obj[] = []): Obj {
  return { name, node: nodes, initializer: inits, input: [], output: [valueInfo(output, [2, 3])] };
}

const graphAttr = (name: string, g: Obj) => ({ name, type: ATTR.GRAPH, g });

/**
 * y = flag == 1 ? (mode == 2 ? Relu(x * w) : -(x * w)) : (x + x) - v. The outer If comes before
 * the Add its else branch reads (ONNX orders by implicit inputs too; the reader must sort so).
 */
function ifModel(): string {
  const inner = node(
    "If",
    ["is2"],
    ["t2"],
    [
      graphAttr("then_branch", branch("inner_then", [node("Relu", ["t1"], ["tt"])], "tt")),
      graphAttr("else_branch", branch("inner_else", [node("Neg", ["t1"], ["te"])], "te")),
    ],
    "inner_if",
  );
  const thenG = branch("outer_then", [node("Mul", ["x", "w"], ["t1"]), node("Equal", ["mode", "two"], ["is2"]), inner], "t2");
  const elseG = branch("outer_else", [node("Sub", ["x2", "v"], ["e1"])], "e1", [floatTensor("v", [3], [1, 2, 3])]);
  return write(
    encode({
      nodes: [
        node("Reshape", ["flag", "one_d"], ["f1"]),
        node("Gather", ["f1", "zero"], ["f0"], [int("axis", 0)]),
        node("Equal", ["f0", "one"], ["cond"]),
        node("If", ["cond"], ["y"], [graphAttr("then_branch", thenG), graphAttr("else_branch", elseG)], "outer_if"),
        node("Add", ["x", "x"], ["x2"]),
      ],
      inits: [
        floatTensor("w", [3], [0.5, -1, 2]),
        int64Tensor("one_d", [1]),
        scalarInt64("zero", 0),
        scalarInt64("one", 1),
        int64Tensor("two", [2]),
      ],
      inputs: [valueInfo("x", [2, 3]), valueInfo("flag", [], INT64), valueInfo("mode", [1], INT64)],
      outputs: [valueInfo("y", [2, 3])],
    }),
  );
}

for (const [flag, mode] of [
  [1, 2],
  [1, 3],
  [0, 2],
]) {
  test(`If folded at read with flag=${flag}, mode=${mode} frozen equals onnxruntime`, async () => {
    const file = ifModel();
    const ie = new IECore();
    const net = await ie.readNetwork(file, { freeze: { flag: [flag], mode: [mode] } });
    assert.deepEqual(Object.keys(net.inputs), ["x"]);
    assert.deepEqual(Object.keys(net.outputs), ["y"]);
    const types = net.graph.nodes.map((n) => n.type);
    // The conditions (Reshape → Gather → Equal, and Equal on mode) went with the Ifs, and the frozen inputs with them.
    for (const t of ["Reshape", "Gather", "Equal"]) assert.ok(!types.includes(t), types.join(","));
    assert.ok(!net.graph.nodes.some((n) => n.name === "mode" || n.name === "flag"));
    assert.deepEqual(
      net.graph.nodes.map((n) => n.id),
      net.graph.nodes.map((_, i) => i),
    );
    const expect = flag === 1 ? (mode === 2 ? ["Multiply", "ReLU"] : ["Multiply", "Negative"]) : ["Add", "Subtract"];
    for (const t of expect) assert.ok(types.includes(t), `${t} in ${types.join(",")}`);

    const req = (await ie.loadNetwork(net, "CPU")).createInferRequest();
    req.setInput("x", X);
    req.getBlob("y").data.fill(NaN);
    await req.infer();
    const session = await ort.InferenceSession.create(file);
    const want = await session.run({
      x: new ort.Tensor("float32", X, [2, 3]),
      flag: new ort.Tensor("int64", BigInt64Array.from([BigInt(flag)]), []),
      mode: new ort.Tensor("int64", BigInt64Array.from([BigInt(mode)]), [1]),
    });
    const w = want.y.data as Float32Array;
    const got = req.getBlob("y").data;
    assert.equal(got.length, w.length);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(got[i] - w[i]) <= 1e-6, `y[${i}]: ${got[i]} vs ${w[i]}`);
  });
}

test("an If whose condition depends on a network input is refused at read, naming the If and the input to freeze", async () => {
  const file = ifModel();
  const ie = new IECore();
  // `flag` free: only an integer input, so it is refused first, with the freeze that would take it.
  await assert.rejects(ie.readNetwork(file, { freeze: { mode: [2] } }), (e: unknown) => {
    assert.ok(e instanceof UnsupportedError, String(e));
    assert.match(e.message, /layer 'flag': input element type i64 is not supported/);
    assert.match(e.message, /freeze: \{ "flag": \[\.\.\.\] \}/);
    return true;
  });
  const dataDependent = write(
    encode({
      nodes: [
        node("ReduceSum", ["x"], ["s"], [int("keepdims", 0)]),
        node("Greater", ["s", "zero"], ["pos"]),
        node(
          "If",
          ["pos"],
          ["y"],
          [
            graphAttr("then_branch", branch("then", [node("Relu", ["x"], ["a"])], "a")),
            graphAttr("else_branch", branch("else", [node("Neg", ["x"], ["b"])], "b")),
          ],
          "score_if",
        ),
      ],
      inits: [floatTensor("zero", [], [0])],
      inputs: [valueInfo("x", [2, 3], FLOAT)],
      outputs: [valueInfo("y", [2, 3])],
    }),
  );
  await assert.rejects(ie.readNetwork(dataDependent), (e: unknown) => {
    assert.ok(e instanceof UnsupportedError, String(e));
    assert.match(e.message, /layer 'score_if': If: the condition depends on the graph input\(s\) 'x'/);
    assert.match(e.message, /freeze: \{ "x": \[\.\.\.\] \}/);
    return true;
  });
  // On the input's shape only (Silero's /decoder/If): freezing values would not help, and the error says so.
  const onShape = write(
    encode({
      nodes: [
        node("Shape", ["x"], ["s"]),
        node("Gather", ["s", "zero"], ["n"], [int("axis", 0)]),
        node("Equal", ["n", "one"], ["single"]),
        node(
          "If",
          ["single"],
          ["y"],
          [
            graphAttr("then_branch", branch("then", [node("Relu", ["x"], ["a"])], "a")),
            graphAttr("else_branch", branch("else", [node("Neg", ["x"], ["b"])], "b")),
          ],
          "shape_if",
        ),
      ],
      inits: [scalarInt64("zero", 0), scalarInt64("one", 1)],
      inputs: [valueInfo("x", ["N", 3], FLOAT)],
      outputs: [valueInfo("y", ["N", 3])],
    }),
  );
  await assert.rejects(ie.readNetwork(onShape), (e: unknown) => {
    assert.ok(e instanceof UnsupportedError, String(e));
    assert.match(e.message, /layer 'shape_if': If: the condition depends on the shape of the graph input\(s\) 'x'/);
    assert.doesNotMatch(e.message, /freeze/);
    return true;
  });
});
