/** A float64 reference of a 2-D convolution for the convolution and fusion tests' oracles. */

/**
 * y[n, o, r, q] = b[o] + Σ x[n, g·C/group + c, r·stride + kh − pad, q·stride + kw − pad] · w[o, c, kh, kw]
 * over the taps inside x, where g is output channel o's group; w is [O, C / group, K, K].
 */
export function refConv2d(
  x: ArrayLike<number>,
  [N, C, H, W]: number[],
  w: ArrayLike<number>,
  [O, Cg, K]: number[],
  b: ArrayLike<number>,
  pad: number,
  { stride = 1, group = 1 }: { stride?: number; group?: number } = {},
): { y: Float64Array; shape: number[] } {
  const OH = Math.floor((H + 2 * pad - K) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - K) / stride) + 1;
  const perGroup = O / group;
  const y = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let r = 0; r < OH; r++)
        for (let q = 0; q < OW; q++) {
          let acc = b[o];
          for (let c = 0; c < Cg; c++) {
            const ci = Math.floor(o / perGroup) * Cg + c;
            for (let kh = 0; kh < K; kh++)
              for (let kw = 0; kw < K; kw++) {
                const [ih, iw] = [r * stride + kh - pad, q * stride + kw - pad];
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                  acc += x[((n * C + ci) * H + ih) * W + iw] * w[((o * Cg + c) * K + kh) * K + kw];
              }
          }
          y[((n * O + o) * OH + r) * OW + q] = acc;
        }
  return { y, shape: [N, O, OH, OW] };
}
