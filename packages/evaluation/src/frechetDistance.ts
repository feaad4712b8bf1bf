import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { toHost } from './imageSet.js';
import type { ImageSet } from './types.js';

/** Mean and (unbiased) covariance of feature rows, in float64. */
export function featureStatistics(features: ImageSet): { mean: Float64Array; cov: Float64Array[] } {
  const { data, n, d } = toHost(features, 'features');
  if (n < 2) throw new RangeError(`features must have at least 2 rows to estimate a covariance; got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j]! - mean[j]!;
    for (let j = 0; j < d; j++) {
      const rj = row[j]!;
      if (rj === 0) continue;
      const cj = cov[j]!;
      for (let l = j; l < d; l++) cj[l]! += rj * row[l]!;
    }
  }
  for (let j = 0; j < d; j++) {
    for (let l = j; l < d; l++) {
      const v = cov[j]![l]! / (n - 1);
      cov[j]![l] = v;
      cov[l]![j] = v;
    }
  }
  return { mean, cov };
}

function symmetricSqrt(m: Matrix): Matrix {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  const lambda = e.realEigenvalues.map((x) => Math.sqrt(Math.max(x, 0)));
  return v.mmul(Matrix.diag(lambda)).mmul(v.transpose());
}

/**
 * Fréchet distance between Gaussians fitted to two feature sets (the FID
 * formula of Heusel et al. 2017):
 *
 *   ‖μ1 − μ2‖² + tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2})
 *
 * tr((Σ1Σ2)^{1/2}) is computed as Σ √λ_i of the symmetric PSD matrix
 * Σ1^{1/2} Σ2 Σ1^{1/2} (same eigenvalues as Σ1Σ2), using ml-matrix's
 * symmetric eigendecomposition in float64.
 */
export function frechetDistance(featuresA: ImageSet, featuresB: ImageSet): number {
  const a = featureStatistics(featuresA);
  const b = featureStatistics(featuresB);
  return frechetDistanceFromStatistics(a, b);
}

export function frechetDistanceFromStatistics(
  a: { mean: ArrayLike<number>; cov: ArrayLike<number>[] },
  b: { mean: ArrayLike<number>; cov: ArrayLike<number>[] },
): number {
  const d = a.mean.length;
  if (b.mean.length !== d) throw new Error(`featuresA and featuresB must have the same feature size; got ${d} and ${b.mean.length}`);
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (a.mean[j]! - b.mean[j]!) ** 2;
  const s1 = new Matrix(a.cov.map((r) => Array.from(r)));
  const s2 = new Matrix(b.cov.map((r) => Array.from(r)));
  const r1 = symmetricSqrt(s1);
  const inner = r1.mmul(s2).mmul(r1);
  // Symmetrise against rounding before the symmetric solver.
  const sym = inner.add(inner.transpose()).div(2);
  const eig = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  let traceSqrt = 0;
  for (const l of eig.realEigenvalues) traceSqrt += Math.sqrt(Math.max(l, 0));
  const value = meanTerm + s1.trace() + s2.trace() - 2 * traceSqrt;
  // Rounding can leave a tiny negative value for identical sets.
  return Math.max(value, 0);
}
