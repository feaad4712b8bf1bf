/**
 * The Winograd form of a 3×3 stride-1 filter gradient (Lavin & Gray 2015,
 * "Fast Algorithms for Convolutional Neural Networks", with the roles of
 * filter and output swapped), in plain TypeScript: the reference the wasm
 * kernel is tested against, and the one home of its transform matrices.
 *
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh+kh−pt, ow+kw−pl, ci] · dy[b,oh,ow,co]
 * is, per m×m tile of dy and its (m+2)×(m+2) window of x, the correlation
 * F(3, m) of the window with the dy tile as the "filter". Toom–Cook over the
 * points 0, ±1, (±2,) ∞ gives, per tile t and transform position (ξ,ν),
 *   U_t = Bᵀ x_t B,  V_t = G dy_t Gᵀ,  M[ξ,ν] = Σ_t U_t[ξ,ν] ⊗ V_t[ξ,ν],
 *   dW = Aᵀ M A,
 * so all tiles and the batch accumulate in M (one [Ci×T]·[T×Co] product per
 * position) and the inverse transform runs once per (ci, co).
 *
 * With evaluation matrices E_k (rows [1, p, …, p^{k−1}] per point, [0…0 1]
 * for ∞): G = E_m, Bᵀ = E_{m+2}^{−T}, Aᵀ = E_3ᵀ. Each row of Bᵀ is scaled to
 * integers and the scale moved into the matching column of Aᵀ, so both
 * per-tile transforms are integer and the fractions live in the one final
 * transform (the test re-derives all three from this construction).
 */

export interface WinogradFilterGradTransforms {
  /** dy tile size m; the x window is n = m + 2. */
  m: 2 | 4;
  n: number;
  /** n×n, row-major: U = Bᵀ x B. */
  BT: number[][];
  /** n×m: V = G dy Gᵀ. */
  G: number[][];
  /** 3×n: dW = Aᵀ M A. */
  AT: number[][];
}

/** F(3×3, 2×2): 4×4 windows of x, 2×2 tiles of dy, 16 products instead of 36. */
export const F3x2: WinogradFilterGradTransforms = {
  m: 2,
  n: 4,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, -1, 0, 1],
  ],
  G: [
    [1, 0],
    [1, 1],
    [1, -1],
    [0, 1],
  ],
  AT: [
    [1, 1 / 2, 1 / 2, 0],
    [0, 1 / 2, -1 / 2, 0],
    [0, 1 / 2, 1 / 2, 1],
  ],
};

/** F(3×3, 4×4): 6×6 windows of x, 4×4 tiles of dy, 36 products instead of 144. */
export const F3x4: WinogradFilterGradTransforms = {
  m: 4,
  n: 6,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, 4, 4, -1, -1, 0],
    [0, -4, 4, 1, -1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1, 0, 0, 0],
    [1, 1, 1, 1],
    [1, -1, 1, -1],
    [1, 2, 4, 8],
    [1, -2, 4, -8],
    [0, 0, 0, 1],
  ],
  AT: [
    [1 / 4, 1 / 6, 1 / 6, 1 / 24, 1 / 24, 0],
    [0, 1 / 6, -1 / 6, 1 / 12, -1 / 12, 0],
    [0, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1],
  ],
};

/** Geometry of a 3×3 stride-1 filter gradient. */
export interface FilterGradGeometry {
  batch: number; inHeight: number; inWidth: number; inChannels: number;
  outHeight: number; outWidth: number; outChannels: number;
  /** Padding before the first row / column (may be negative: rows cropped). */
  padTop: number; padLeft: number;
}

/** dW by the definition, in float64 (the closed form the Winograd forms are checked against). */
export function filterGradDirect(x: ArrayLike<number>, dy: ArrayLike<number>, g: FilterGradGeometry): Float64Array {
  const { batch: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co, padTop, padLeft } = g;
  const out = new Float64Array(9 * Ci * Co);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyAt = ((b * OH + oh) * OW + ow) * Co;
        for (let kh = 0; kh < 3; kh++) {
          const ih = oh + kh - padTop;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < 3; kw++) {
            const iw = ow + kw - padLeft;
            if (iw < 0 || iw >= W) continue;
            const xAt = ((b * H + ih) * W + iw) * Ci;
            for (let ci = 0; ci < Ci; ci++) {
              const xv = x[xAt + ci]!;
              const o = ((kh * 3 + kw) * Ci + ci) * Co;
              for (let co = 0; co < Co; co++) out[o + co]! += xv * dy[dyAt + co]!;
            }
          }
        }
      }
    }
  }
  return out;
}

/** dW by the Winograd algorithm with transforms `t`, in float64, laid out [3, 3, Ci, Co]. */
export function filterGradWinograd(
  x: ArrayLike<number>, dy: ArrayLike<number>, g: FilterGradGeometry, t: WinogradFilterGradTransforms,
): Float64Array {
  const { batch: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co, padTop, padLeft } = g;
  const { m, n, BT, G, AT } = t;
  const M = new Float64Array(n * n * Ci * Co); // [ξ, ν, ci, co]
  const d = new Float64Array(n * n);
  const tmp = new Float64Array(n * n);
  const U = new Float64Array(n * n * Ci);
  const V = new Float64Array(n * n * Co);
  const e = new Float64Array(m * m);
  const tilesH = Math.ceil(OH / m);
  const tilesW = Math.ceil(OW / m);
  for (let b = 0; b < B; b++) {
    for (let th = 0; th < tilesH; th++) {
      for (let tw = 0; tw < tilesW; tw++) {
        const oh0 = th * m;
        const ow0 = tw * m;
        // U = Bᵀ x B per input channel (x is zero outside the image)
        for (let ci = 0; ci < Ci; ci++) {
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              const ih = oh0 - padTop + i;
              const iw = ow0 - padLeft + j;
              d[i * n + j] = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[((b * H + ih) * W + iw) * Ci + ci]! : 0;
            }
          }
          sandwich(BT, d, n, n, tmp, (k, v) => { U[k * Ci + ci] = v; });
        }
        // V = G dy Gᵀ per output channel (dy is zero past its last row and column)
        for (let co = 0; co < Co; co++) {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < m; j++) {
              const oh = oh0 + i;
              const ow = ow0 + j;
              e[i * m + j] = oh < OH && ow < OW ? dy[((b * OH + oh) * OW + ow) * Co + co]! : 0;
            }
          }
          sandwich(G, e, n, m, tmp, (k, v) => { V[k * Co + co] = v; });
        }
        for (let k = 0; k < n * n; k++) {
          for (let ci = 0; ci < Ci; ci++) {
            const u = U[k * Ci + ci]!;
            const o = (k * Ci + ci) * Co;
            for (let co = 0; co < Co; co++) M[o + co]! += u * V[k * Co + co]!;
          }
        }
      }
    }
  }
  const out = new Float64Array(9 * Ci * Co);
  const mm = new Float64Array(n * n);
  for (let ci = 0; ci < Ci; ci++) {
    for (let co = 0; co < Co; co++) {
      for (let k = 0; k < n * n; k++) mm[k] = M[(k * Ci + ci) * Co + co]!;
      sandwich(AT, mm, 3, n, tmp, (k, v) => { out[(k * Ci + ci) * Co + co] = v; });
    }
  }
  return out;
}

/** R a Rᵀ for R rows×cols and a cols×cols (row-major), passing each entry of the rows×rows result to `put`. */
function sandwich(R: number[][], a: Float64Array, rows: number, cols: number, tmp: Float64Array,
  put: (k: number, v: number) => void): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += R[i]![k]! * a[k * cols + j]!;
      tmp[i * cols + j] = s;
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += tmp[i * cols + k]! * R[j]![k]!;
      put(i * rows + j, s);
    }
  }
}
