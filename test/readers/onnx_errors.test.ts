import { test } from "node:test";
import * as fs from "fs";
import { ModelError, UnsupportedError } from "../../kernel/errors";
import { readONNX } from "../../kernel/readers/onnx";
import { OPEN_CLOSED_EYE_ONNX } from "../helpers/models";
import { FLOAT, Spec, build, node, throwsModel, valueInfo, write } from "../helpers/onnx_spec";

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

test("unknown op names the node and the op type", () => {
  const spec: Spec = {
    nodes: [node("FancyOp", ["x"], ["y"], [], "my_fancy")],
    inputs: [valueInfo("x", [2])],
    outputs: [valueInfo("y", [2])],
  };
  throwsModel(() => build(spec), UnsupportedError, /layer 'my_fancy'/, /FancyOp/);
  // Op types that are Object.prototype members are unknown ops too, not the prototype's functions.
  for (const op of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
    const s: Spec = { nodes: [node(op, ["x"], ["y"], [], "odd")], inputs: [valueInfo("x", [2])], outputs: [valueInfo("y", [2])] };
    throwsModel(() => build(s), UnsupportedError, /layer 'odd'/, new RegExp(op));
  }
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
