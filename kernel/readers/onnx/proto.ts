import * as protobuf from "protobufjs";

/**
 * The subset of onnx.proto the reader needs, as a protobufjs JSON descriptor (field numbers
 * from onnx/onnx.proto). Fields not listed are skipped by the decoder.
 */
const ONNX_DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: "int64", id: 1 },
            producer_name: { type: "string", id: 2 },
            producer_version: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            model_version: { type: "int64", id: 5 },
            doc_string: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            opset_import: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: "string", id: 1 },
            version: { type: "int64", id: 2 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: "string", id: 1 },
            value: { type: "string", id: 2 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            doc_string: { type: "string", id: 10 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
            value_info: { rule: "repeated", type: "ValueInfoProto", id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            op_type: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
            doc_string: { type: "string", id: 6 },
            domain: { type: "string", id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            g: { type: "GraphProto", id: 6 },
            floats: { rule: "repeated", type: "float", id: 7 },
            ints: { rule: "repeated", type: "int64", id: 8 },
            strings: { rule: "repeated", type: "bytes", id: 9 },
            tensors: { rule: "repeated", type: "TensorProto", id: 10 },
            graphs: { rule: "repeated", type: "GraphProto", id: 11 },
            doc_string: { type: "string", id: 13 },
            type: { type: "int32", id: 20 },
            ref_attr_name: { type: "string", id: 21 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            data_type: { type: "int32", id: 2 },
            float_data: { rule: "repeated", type: "float", id: 4, options: { packed: true } },
            int32_data: { rule: "repeated", type: "int32", id: 5, options: { packed: true } },
            string_data: { rule: "repeated", type: "bytes", id: 6 },
            int64_data: { rule: "repeated", type: "int64", id: 7, options: { packed: true } },
            name: { type: "string", id: 8 },
            raw_data: { type: "bytes", id: 9 },
            double_data: { rule: "repeated", type: "double", id: 10, options: { packed: true } },
            uint64_data: { rule: "repeated", type: "uint64", id: 11, options: { packed: true } },
            doc_string: { type: "string", id: 12 },
            external_data: { rule: "repeated", type: "StringStringEntryProto", id: 13 },
            data_location: { type: "int32", id: 14 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: "string", id: 1 },
            type: { type: "TypeProto", id: 2 },
            doc_string: { type: "string", id: 3 },
          },
        },
        TypeProto: {
          fields: {
            tensor_type: { type: "TypeProtoTensor", id: 1 },
            denotation: { type: "string", id: 6 },
          },
        },
        TypeProtoTensor: {
          fields: {
            elem_type: { type: "int32", id: 1 },
            shape: { type: "TensorShapeProto", id: 2 },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: "repeated", type: "TensorShapeDimension", id: 1 },
          },
        },
        TensorShapeDimension: {
          fields: {
            dim_value: { type: "int64", id: 1 },
            dim_param: { type: "string", id: 2 },
            denotation: { type: "string", id: 3 },
          },
        },
      },
    },
  },
};

export const onnxRoot = protobuf.Root.fromJSON(ONNX_DESCRIPTOR);
export const ModelProtoType = onnxRoot.lookupType("onnx.ModelProto");

/** protobufjs gives int64 as a Long (or a number when Long is absent); both → number. */
export type Int64 = number | { toNumber(): number };

export interface OnnxTensor {
  dims: Int64[];
  data_type: number;
  float_data: number[];
  int32_data: number[];
  int64_data: Int64[];
  double_data: number[];
  uint64_data: Int64[];
  name: string;
  raw_data: Uint8Array;
  data_location: number;
  external_data: { key: string; value: string }[];
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: OnnxTensor;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  g?: OnnxGraph;
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: OnnxAttribute[];
}

export interface OnnxValueInfo {
  name: string;
  type?: {
    tensor_type?: {
      elem_type: number;
      shape?: { dim: { dim_value?: Int64; dim_param?: string }[] };
    };
  };
}

export interface OnnxGraph {
  node: OnnxNode[];
  name: string;
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  value_info: OnnxValueInfo[];
}

export interface OnnxModel {
  ir_version: Int64;
  graph?: OnnxGraph;
  opset_import: { domain: string; version: Int64 }[];
}

/** AttributeProto.AttributeType values. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** TensorProto.DataType values. */
export const ONNX_DTYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

export function toNum(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === "number" ? v : v.toNumber();
}
