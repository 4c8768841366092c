import { attrBool } from "../attrs";
import type { OpDef } from "./types";
import { broadcastShapes, expectInputs, fail } from "./util";

/** MatMul: numpy matmul after optional transposes; 1-D operands are unsqueezed and the added axis dropped. */
const matmul: OpDef = {
  type: "MatMul",
  infer(ctx) {
    expectInputs(ctx, 2);
    let a = [...ctx.shapes[0]];
    let b = [...ctx.shapes[1]];
    if (a.length === 0 || b.length === 0) fail(ctx, "MatMul operands must have rank >= 1");
    const aVec = a.length === 1;
    const bVec = b.length === 1;
    // Transposes do not apply to 1-D operands.
    if (aVec) a = [1, a[0]];
    else if (attrBool(ctx.node.attrs, "transpose_a", false)) a = swapLast(a);
    if (bVec) b = [b[0], 1];
    else if (attrBool(ctx.node.attrs, "transpose_b", false)) b = swapLast(b);
    const m = a[a.length - 2];
    const k = a[a.length - 1];
    const k2 = b[b.length - 2];
    const n = b[b.length - 1];
    if (k !== k2) fail(ctx, `inner dimensions differ: [${ctx.shapes[0]}] x [${ctx.shapes[1]}] (${k} vs ${k2})`);
    const batch = broadcastShapes(ctx, a.slice(0, -2), b.slice(0, -2));
    const out = [...batch];
    if (!aVec) out.push(m);
    if (!bVec) out.push(n);
    return [{ shape: out, dtype: ctx.dtypes[0] }];
  },
};

function swapLast(s: number[]): number[] {
  const r = [...s];
  const n = r.length;
  [r[n - 2], r[n - 1]] = [r[n - 1], r[n - 2]];
  return r;
}

export const matmulOps: OpDef[] = [matmul];
