/** A small builder for hand-made graphs in the shape the readers produce (shapes at the model's own batch). */
import { Attrs, ConstTensor, DType, Graph, Node, PortRef } from "../../kernel/graph/graph";

export class GraphBuilder {
  private nodes: Node[] = [];
  private nextId = 0;

  constructor(private readonly name = "hand-built") {}

  private add(type: string, name: string, inputs: PortRef[], attrs: Attrs, outputs: number): PortRef {
    const id = this.nextId++;
    this.nodes.push({
      id,
      name,
      type,
      version: "opset8",
      attrs,
      inputs,
      outputs: Array.from({ length: outputs }, () => ({ names: [], dtype: "f32" as DType, shape: [] })),
    });
    return { node: id, port: 0 };
  }

  input(name: string, shape: number[]): PortRef {
    const ref = this.add("Parameter", name, [], { shape: shape.join(","), element_type: "f32" }, 1);
    this.nodes[ref.node].outputs[0].shape = [...shape];
    return ref;
  }

  /** A constant; integer dtypes hold their values in a Float64Array like the readers do. */
  const(name: string, shape: number[], values: number[], dtype: DType = "f32"): PortRef {
    const data = dtype === "f32" ? Float32Array.from(values) : Float64Array.from(values);
    const value: ConstTensor = { dtype, shape: [...shape], data };
    const ref = this.add("Const", name, [], {}, 1);
    const n = this.nodes[ref.node];
    n.value = value;
    n.outputs[0] = { names: [], dtype, shape: [...shape] };
    return ref;
  }

  ints(name: string, values: number[]): PortRef {
    return this.const(name, [values.length], values, "i64");
  }

  op(type: string, name: string, inputs: PortRef[], attrs: Attrs = {}, outputs = 1): PortRef {
    return this.add(type, name, inputs, attrs, outputs);
  }

  output(name: string, from: PortRef): void {
    this.add("Result", name, [from], {}, 0);
  }

  graph(): Graph {
    return { name: this.name, file: `${this.name}.xml`, format: "ir11", nodes: this.nodes };
  }
}

/** Input [1,3,8,8] → 3x3 convolution to 128 channels with stride 4 → [1,128,2,2]: the head-pose tail in small. */
export function convTrunk(b: GraphBuilder): PortRef {
  const x = b.input("data", [1, 3, 8, 8]);
  const w = b.const("w", [128, 3, 3, 3], new Array(128 * 27).fill(0.01));
  return b.op("Convolution", "conv", [x, w], {
    strides: "4,4",
    dilations: "1,1",
    pads_begin: "1,1",
    pads_end: "0,0",
    auto_pad: "explicit",
  });
}
