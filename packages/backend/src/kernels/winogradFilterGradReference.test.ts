import { describe, expect, it } from 'vitest';
import {
  F3x2, F3x4, filterGradDirect, filterGradWinograd, type FilterGradGeometry, type WinogradFilterGradTransforms,
} from './winogradFilterGradReference.js';

/** Evaluation matrix E_k of Toom–Cook: rows [1, p, …, p^{k−1}] per finite point, [0 … 0 1] for ∞. */
function evaluation(points: number[], k: number): number[][] {
  return [...points.map((p) => Array.from({ length: k }, (_, j) => p ** j)), Array.from({ length: k }, (_, j) => (j === k - 1 ? 1 : 0))];
}

function inverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pivot = m[c]![c]!;
    m[c] = m[c]!.map((v) => v / pivot);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      m[r] = m[r]!.map((v, j) => v - f * m[c]![j]!);
    }
  }
  return m.map((row) => row.slice(n));
}

const transpose = (a: number[][]) => a[0]!.map((_, j) => a.map((row) => row[j]!));

/** A seeded uniform generator (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('Winograd filter-gradient transforms', () => {
  const cases: [string, WinogradFilterGradTransforms, number[]][] = [['F(3,2)', F3x2, [0, 1, -1]], ['F(3,4)', F3x4, [0, 1, -1, 2, -2]]];
  for (const [name, t, points] of cases) {
    it(`${name} are Toom–Cook's G = E_m, Bᵀ = E_n^−T, Aᵀ = E_3ᵀ up to a scale per point`, () => {
      const { m, n } = t;
      expect(t.G).toEqual(evaluation(points, m));
      const bt = transpose(inverse(evaluation(points, n)));
      const at = transpose(evaluation(points, 3));
      for (let xi = 0; xi < n; xi++) {
        const j = t.BT[xi]!.findIndex((v) => v !== 0);
        const scale = t.BT[xi]![j]! / bt[xi]![j]!;
        for (let c = 0; c < n; c++) expect(t.BT[xi]![c]!).toBeCloseTo(scale * bt[xi]![c]!, 12);
        for (let k = 0; k < 3; k++) expect(t.AT[k]![xi]!).toBeCloseTo(at[k]![xi]! / scale, 12);
        // integer per-tile transforms: the fractions all sit in Aᵀ
        for (const v of t.BT[xi]!) expect(Number.isInteger(v)).toBe(true);
      }
    });

    it(`${name} computes the 1-D correlation y[k] = Σ_i d[i+k]·g[i]`, () => {
      const { m, n, BT, G, AT } = t;
      const r = rng(7);
      for (let trial = 0; trial < 20; trial++) {
        const d = Array.from({ length: n }, r);
        const g = Array.from({ length: m }, r);
        const u = BT.map((row) => row.reduce((s, v, j) => s + v * d[j]!, 0));
        const v = G.map((row) => row.reduce((s, w, j) => s + w * g[j]!, 0));
        const y = AT.map((row) => row.reduce((s, a, xi) => s + a * u[xi]! * v[xi]!, 0));
        const want = [0, 1, 2].map((k) => g.reduce((s, gi, i) => s + gi * d[i + k]!, 0));
        expect(maxAbsDiff(y, want)).toBeLessThan(1e-12);
      }
    });
  }

  /** The U-Net's shapes (mnist-ref) scaled down in batch, odd sizes, and valid/same padding. */
  const geometries: [string, number, number, number, number, number, 'same' | 'valid'][] = [
    ['7×7 64→64 same', 2, 7, 7, 64, 64, 'same'],
    ['5×9 3→5 same', 2, 5, 9, 3, 5, 'same'],
    ['5×9 3→5 valid', 2, 5, 9, 3, 5, 'valid'],
    ['28×28 1→32 same', 1, 28, 28, 1, 32, 'same'],
    ['14×14 32→1 same', 1, 14, 14, 32, 1, 'same'],
    ['6×6 4→4 valid', 3, 6, 6, 4, 4, 'valid'],
    ['3×3 2→2 valid (one output pixel)', 1, 3, 3, 2, 2, 'valid'],
    ['1×2 2→3 same', 2, 1, 2, 2, 3, 'same'],
  ];
  for (const [name, b, h, w, ci, co, pad] of geometries) {
    it(`the reference algorithm equals the direct sum: ${name}`, () => {
      const oh = pad === 'same' ? h : h - 2;
      const ow = pad === 'same' ? w : w - 2;
      const g: FilterGradGeometry = {
        batch: b, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co,
        padTop: pad === 'same' ? 1 : 0, padLeft: pad === 'same' ? 1 : 0,
      };
      const r = rng(b * 1000 + h * 100 + w);
      const x = Float64Array.from({ length: b * h * w * ci }, r);
      const dy = Float64Array.from({ length: b * oh * ow * co }, r);
      const want = filterGradDirect(x, dy, g);
      const scale = Math.max(...want.map(Math.abs));
      for (const t of [F3x2, F3x4]) {
        expect(maxAbsDiff(filterGradWinograd(x, dy, g, t), want) / scale, `m = ${t.m}`).toBeLessThan(1e-12);
      }
    });
  }

  it('the direct sum is the definition: a delta dy picks out the x window', () => {
    // dy = 1 at (b=0, oh=1, ow=2, co=0) only: dW[kh,kw,ci,0] = x[0, 1+kh−1, 2+kw−1, ci].
    const g: FilterGradGeometry = { batch: 1, inHeight: 4, inWidth: 5, inChannels: 2, outHeight: 4, outWidth: 5, outChannels: 2, padTop: 1, padLeft: 1 };
    const x = Float64Array.from({ length: 40 }, (_, i) => i + 1);
    const dy = new Float64Array(40);
    dy[(1 * 5 + 2) * 2] = 1;
    const out = filterGradDirect(x, dy, g);
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        for (let ci = 0; ci < 2; ci++) {
          expect(out[((kh * 3 + kw) * 2 + ci) * 2]).toBe(x[((kh) * 5 + (1 + kw)) * 2 + ci]);
          expect(out[((kh * 3 + kw) * 2 + ci) * 2 + 1]).toBe(0);
        }
      }
    }
  });
});
