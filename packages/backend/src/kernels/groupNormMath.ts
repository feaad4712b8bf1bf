/**
 * GroupNorm(+SiLU) forward and backward on NHWC float32 arrays, in plain
 * TypeScript: the reference the wasm module is tested against, and the
 * kernel where that module cannot load. Statistics per sample and group are
 * taken in two passes (mean, then Σ(x − μ)²) in float64.
 *
 * Backward, with x̂ = (x − μ)·r, r = (σ² + ε)^(−1/2), z = γ·x̂ + β,
 * y = z·s(z) (s = sigmoid) or y = z, and N = H·W·C/G values per group:
 *   dz = dy·s(z)·(1 + z·(1 − s(z)))   (dy without SiLU)
 *   dβ_c = Σ_{b,h,w} dz,   dγ_c = Σ_{b,h,w} dz·x̂
 *   dx = r·(γ_c·dz − mean_g(γ·dz) − x̂·mean_g(γ·dz·x̂))
 * which per channel c of a sample is dx = A_c·dz + B_c·x + D_c with
 *   A_c = r·γ_c,  B_c = −r²·m2,  D_c = r·(r·μ·m2 − m1),
 *   m1 = Σ_{c∈g} γ_c·Σ_{h,w} dz / N,  m2 = Σ_{c∈g} γ_c·Σ_{h,w} dz·x̂ / N.
 */

export interface GroupNormDims {
  batch: number;
  /** H·W */
  pixels: number;
  channels: number;
  groups: number;
  epsilon: number;
  silu: boolean;
}

export function checkGroupNormDims(d: GroupNormDims): void {
  if (!Number.isInteger(d.groups) || d.groups < 1 || d.channels % d.groups !== 0) {
    throw new Error(`TfdGroupNorm: groups must be a positive integer dividing the ${d.channels} channels; got ${d.groups}`);
  }
  if (!(d.epsilon > 0)) throw new Error(`TfdGroupNorm: epsilon must be > 0; got ${d.epsilon}`);
}

/** Per-channel mean and r = 1/√(σ² + ε) of sample `b`'s group (each channel gets its group's). */
function sampleStats(x: Float32Array, b: number, d: GroupNormDims, mean: Float64Array, rstd: Float64Array): void {
  const { pixels: P, channels: C, groups: G } = d;
  const cg = C / G;
  const n = P * cg;
  const base = b * P * C;
  const acc = new Float64Array(C);
  for (let p = 0, i = base; p < P; p++) for (let c = 0; c < C; c++, i++) acc[c]! += x[i]!;
  for (let g = 0; g < G; g++) {
    let s = 0;
    for (let c = g * cg; c < (g + 1) * cg; c++) s += acc[c]!;
    for (let c = g * cg; c < (g + 1) * cg; c++) mean[c] = s / n;
  }
  acc.fill(0);
  for (let p = 0, i = base; p < P; p++) {
    for (let c = 0; c < C; c++, i++) {
      const v = x[i]! - mean[c]!;
      acc[c]! += v * v;
    }
  }
  for (let g = 0; g < G; g++) {
    let s = 0;
    for (let c = g * cg; c < (g + 1) * cg; c++) s += acc[c]!;
    const r = 1 / Math.sqrt(s / n + d.epsilon);
    for (let c = g * cg; c < (g + 1) * cg; c++) rstd[c] = r;
  }
}

export function groupNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, d: GroupNormDims): void {
  const { pixels: P, channels: C } = d;
  const mean = new Float64Array(C);
  const rstd = new Float64Array(C);
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let b = 0; b < d.batch; b++) {
    sampleStats(x, b, d, mean, rstd);
    for (let c = 0; c < C; c++) {
      scale[c] = gamma[c]! * rstd[c]!;
      shift[c] = beta[c]! - mean[c]! * scale[c]!;
    }
    for (let p = 0, i = b * P * C; p < P; p++) {
      for (let c = 0; c < C; c++, i++) {
        const z = x[i]! * scale[c]! + shift[c]!;
        y[i] = d.silu ? z / (1 + Math.exp(-z)) : z;
      }
    }
  }
}

/** Writes dx; dgamma and dbeta are overwritten with the sums over the batch. */
export function groupNormBackward(
  x: Float32Array, gamma: Float32Array, beta: Float32Array, dy: Float32Array,
  dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, d: GroupNormDims,
): void {
  const { pixels: P, channels: C, groups: G } = d;
  const cg = C / G;
  const n = P * cg;
  const mean = new Float64Array(C);
  const rstd = new Float64Array(C);
  const sdz = new Float64Array(C);
  const sdzx = new Float64Array(C);
  const dg = new Float64Array(C);
  const db = new Float64Array(C);
  const A = new Float64Array(C);
  const B = new Float64Array(C);
  const D = new Float64Array(C);
  for (let b = 0; b < d.batch; b++) {
    sampleStats(x, b, d, mean, rstd);
    sdz.fill(0);
    sdzx.fill(0);
    const base = b * P * C;
    // dz goes to dx for now; the second pass turns it into dx in place.
    for (let p = 0, i = base; p < P; p++) {
      for (let c = 0; c < C; c++, i++) {
        const xh = (x[i]! - mean[c]!) * rstd[c]!;
        let dz = dy[i]!;
        if (d.silu) {
          const z = gamma[c]! * xh + beta[c]!;
          const s = 1 / (1 + Math.exp(-z));
          dz *= s * (1 + z * (1 - s));
        }
        dx[i] = dz;
        sdz[c]! += dz;
        sdzx[c]! += dz * xh;
      }
    }
    for (let g = 0; g < G; g++) {
      let m1 = 0;
      let m2 = 0;
      for (let c = g * cg; c < (g + 1) * cg; c++) {
        m1 += gamma[c]! * sdz[c]!;
        m2 += gamma[c]! * sdzx[c]!;
      }
      m1 /= n;
      m2 /= n;
      for (let c = g * cg; c < (g + 1) * cg; c++) {
        const r = rstd[c]!;
        A[c] = r * gamma[c]!;
        B[c] = -r * r * m2;
        D[c] = r * (r * mean[c]! * m2 - m1);
      }
    }
    for (let c = 0; c < C; c++) {
      db[c]! += sdz[c]!;
      dg[c]! += sdzx[c]!;
    }
    for (let p = 0, i = base; p < P; p++) {
      for (let c = 0; c < C; c++, i++) dx[i] = A[c]! * dx[i]! + B[c]! * x[i]! + D[c]!;
    }
  }
  dgamma.set(dg);
  dbeta.set(db);
}
