/** A model with a custom op (MyNorm of domain my.ops), the same model in standard ONNX ops, and MyNorm's extension. */
import { Extension } from "../../kernel";
import { numel } from "./models";
import { OnnxBuilder } from "./onnx_builder";

export const SAMPLE = [3, 4, 4];

/** Conv → MyNorm → Relu, MyNorm(x) = x / (1 + mean |x| over each sample); `standard` writes MyNorm in ONNX ops. */
export function model(standard: boolean, type = "MyNorm"): string {
  const b = new OnnxBuilder(13);
  const x = b.input("x", SAMPLE);
  const conv = b.op1("Conv", [x, b.weight([3, 3, 3, 3]), b.weight([3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const norm = standard
    ? b.op1("Div", [
        conv,
        b.op1("Add", [b.op1("ReduceMean", [b.op1("Abs", [conv])], { axes: [1, 2, 3] }), b.weight([], 0, 0, [1])]),
      ])
    : b.custom("my.ops", type, [conv], { scale: 1 });
  b.output(b.op1("Relu", [norm]));
  return b.save();
}

/** MyNorm on n samples at once; records the batch each call saw. */
export function myNorm(seen: number[], batch: Extension["batch"] = "independent"): Extension {
  return {
    type: "MyNorm",
    domain: "my.ops",
    inferShape: (inputs) => [inputs[0]],
    batch,
    compute: (inputs, attrs, outputs, shapes) => {
      const [n, ...sample] = shapes.inputs[0];
      seen.push(n);
      const size = numel(sample);
      const x = inputs[0];
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let k = 0; k < size; k++) sum += Math.abs(x[i * size + k]);
        const d = 1 + (Number(attrs.scale) * sum) / size;
        for (let k = 0; k < size; k++) outputs[0][i * size + k] = x[i * size + k] / d;
      }
    },
  };
}
