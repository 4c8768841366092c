/** A float64 reference of a dense 2-D convolution (stride 1) for the fusion tests' oracles. */

/** y[n, o, r, q] = b[o] + Σ x[n, c, r + kh − pad, q + kw − pad] · w[o, c, kh, kw] over the taps inside x. */
export function refConv2d(
  x: ArrayLike<number>,
  [N, C, H, W]: number[],
  w: ArrayLike<number>,
  [O, , K]: number[],
  b: ArrayLike<number>,
  pad: number,
): { y: Float64Array; shape: number[] } {
  const [OH, OW] = [H + 2 * pad - K + 1, W + 2 * pad - K + 1];
  const y = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let r = 0; r < OH; r++)
        for (let q = 0; q < OW; q++) {
          let acc = b[o];
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < K; kh++)
              for (let kw = 0; kw < K; kw++) {
                const [ih, iw] = [r + kh - pad, q + kw - pad];
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                  acc += x[((n * C + c) * H + ih) * W + iw] * w[((o * C + c) * K + kh) * K + kw];
              }
          y[((n * O + o) * OH + r) * OW + q] = acc;
        }
  return { y, shape: [N, O, OH, OW] };
}
