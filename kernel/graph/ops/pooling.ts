import { attrInts, attrStr } from "../attrs";
import type { OpDef } from "./types";
import { expectInputs, fail, parseDType } from "./util";
import { windowOut, windowParams } from "./conv";

/** MaxPool (opset1; opset8 adds dilations and a second output with indices; opset14 adds ceil_torch) and AvgPool. */
function pool(type: string): OpDef {
  return {
    type,
    infer(ctx) {
      expectInputs(ctx, 1);
      const x = ctx.shapes[0];
      if (x.length < 3) fail(ctx, `data must have rank >= 3, got [${x}]`);
      const ns = x.length - 2;
      const kernel = attrInts(ctx.node.attrs, "kernel");
      if (kernel.length !== ns) fail(ctx, `kernel [${kernel}] must have ${ns} values for data [${x}]`);
      const p = windowParams(ctx, ns, type === "MaxPool");
      const rounding = attrStr(ctx.node.attrs, "rounding_type", "floor").toLowerCase();
      const torch = rounding === "ceil_torch";
      const ceil = torch || rounding === "ceil";
      const shape = [
        x[0],
        x[1],
        ...kernel.map((k, i) => {
          const out = windowOut(ctx, x[i + 2], k, p, i, ceil);
          // ceil_torch (opset14; ONNX and PyTorch ceil_mode) drops a last window that starts in the end padding.
          const begin = p.autoPad === "valid" ? 0 : p.padsBegin[i];
          return torch && out > 1 && (out - 1) * p.strides[i] >= x[i + 2] + begin ? out - 1 : out;
        }),
      ];
      const outs = [{ shape, dtype: ctx.dtypes[0] }];
      // opset8 MaxPool has an indices output; it exists on the node whenever the IR declares two ports.
      if (type === "MaxPool" && (ctx.node.version === "opset8" || ctx.node.outputs.length > 1)) {
        outs.push({ shape: [...shape], dtype: parseDType(ctx, attrStr(ctx.node.attrs, "index_element_type", "i64")) });
      }
      return outs;
    },
  };
}

export const poolingOps: OpDef[] = [pool("MaxPool"), pool("AvgPool")];
