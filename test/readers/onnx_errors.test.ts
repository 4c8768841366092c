import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import { ModelError, UnsupportedError } from "../../kernel/errors";
import { readONNX } from "../../kernel/readers/onnx";
import { OPEN_CLOSED_EYE_ONNX } from "../helpers/models";
import { FLOAT, Spec, build, byName, float, int, ints, node, str, throwsModel, valueInfo, write } from "../helpers/onnx_spec";

/** The reader refuses broken and unsupported ONNX files with an error that names the file and the layer. */

test("truncated ONNX file", () => {
  const bytes = fs.readFileSync(OPEN_CLOSED_EYE_ONNX);
  const file = write(bytes.subarray(0, bytes.length - 1000));
  throwsModel(() => readONNX(file), ModelError, /m\.onnx/, /malformed or truncated ONNX protobuf/);
  throwsModel(() => readONNX(write(Buffer.from("not a model at all, just text\n"))), ModelError, /m\.onnx/);
});

test("external-data tensors are unsupported", () => {
  const spec: Spec = {
    nodes: [node("Add", ["x", "w"], ["y"], [], "add")],
    inits: [
      {
        name: "w",
        dims: [2],
        data_type: FLOAT,
        data_location: 1,
        external_data: [
          { key: "location", value: "w.bin" },
          { key: "offset", value: "0" },
        ],
      },
    ],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("y", [2])],
  };
  throwsModel(() => build(spec), UnsupportedError, /ONNX external data is not supported/, /'w'/);
});

test("an unknown op reads as a layer of its own type (for an extension), attributes as IR text", () => {
  const spec: Spec = {
    nodes: [node("FancyOp", ["x"], ["y"], [int("k", 3), ints("v", [1, 2]), float("f", 0.5), str("s", "a")], "my_fancy")],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("y", [2])],
  };
  const fancy = byName(build(spec), "my_fancy");
  assert.equal(fancy.type, "FancyOp");
  assert.equal(fancy.version, "onnx");
  assert.deepEqual(fancy.attrs, { k: "3", v: "1,2", f: "0.5", s: "a" });
  // Op types that are Object.prototype members are unknown ops too, not the prototype's functions.
  for (const op of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
    const s: Spec = { nodes: [node(op, ["x"], ["y"], [], "odd")], inputs: [valueInfo("x", [2])], outputs: [valueInfo("y", [2])] };
    assert.equal(byName(build(s), "odd").type, op);
  }
  // A name the built-in opset uses with other inputs and attributes is refused, not misread.
  const clash: Spec = {
    nodes: [node("Convolution", ["x"], ["y"], [], "odd")],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("y", [2])],
  };
  throwsModel(() => build(clash), UnsupportedError, /layer 'odd'/, /ONNX op 'Convolution' of domain '' is not supported/);
});

test("opset outside 7..21", () => {
  const spec: Spec = { nodes: [node("Relu", ["x"], ["y"])], inputs: [valueInfo("x", [2])], outputs: [valueInfo("y", [2])] };
  throwsModel(() => build({ ...spec, opset: 5 }), UnsupportedError, /ONNX opset 5 is not supported \(7\.\.21 are\)/);
  throwsModel(() => build({ ...spec, opset: 22 }), UnsupportedError, /opset 22/);
});

test("undefined input value", () => {
  const spec: Spec = {
    nodes: [node("Add", ["x", "nope"], ["y"], [], "a")],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("y", [2])],
  };
  throwsModel(() => build(spec), ModelError, /'nope'/, /layer 'a'/);
});

test("Einsum forms that are not read name the equation and why", () => {
  const one = (equation: string, inputs = ["x"]): Spec => ({
    nodes: [node("Einsum", inputs, ["y"], [str("equation", equation)], "ein")],
    inputs: [valueInfo("x", [2, 2]), valueInfo("z", [2, 2])],
    outputs: [valueInfo("y", [2])],
  });
  throwsModel(() => build(one("ii->i")), UnsupportedError, /layer 'ein'/, /'ii->i': a letter repeated in 'ii' \(a diagonal\)/);
  throwsModel(() => build(one("...ij->...ji")), UnsupportedError, /an ellipsis is not supported/);
  throwsModel(() => build(one("ij,jk->ik")), UnsupportedError, /names 2 operand\(s\), the node has 1/);
  throwsModel(() => build(one("ij,jk,kl,lm->im", ["x", "z", "x", "z"])), UnsupportedError, /4 operands: 1 to 3 are supported/);
});
