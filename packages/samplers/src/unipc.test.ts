import { describe, expect, it } from 'vitest';
import { add, maxRelDiff, model, npRound, runSampler, scale, SD_SCHEDULE, sub, X_T } from './testing/reference.js';
import { solveLinear, uniPC, type UniPCOptions } from './unipc.js';

interface RefOptions {
  solverOrder: number;
  solverType: 'bh1' | 'bh2';
  predictX0: boolean;
  lowerOrderFinal: boolean;
  finalSigmasType: 'zero' | 'sigma_min';
  disableCorrector: number[];
}

/** Cramer's rule for the 1×1, 2×2 and 3×3 systems torch.linalg.solve gets here. */
function cramer(A: number[][], b: number[]): number[] {
  const n = b.length;
  const det = (M: number[][]): number =>
    M.length === 1
      ? M[0]![0]!
      : M.length === 2
        ? M[0]![0]! * M[1]![1]! - M[0]![1]! * M[1]![0]!
        : M[0]!.reduce((s, v, c) => s + (c % 2 ? -1 : 1) * v * det(M.slice(1).map((row) => row.filter((_, k) => k !== c))), 0);
  const d = det(A);
  return Array.from({ length: n }, (_, c) => det(A.map((row, r) => row.map((v, k) => (k === c ? b[r]! : v)))) / d);
}

/**
 * diffusers' UniPCMultistepScheduler (scheduling_unipc_multistep.py) written out with plain
 * numbers: set_timesteps with 'linspace' spacing, convert_model_output, step(),
 * multistep_uni_p_bh_update and multistep_uni_c_bh_update, epsilon prediction.
 */
function diffusersUniPC(n: number, o: RefOptions) {
  const T = 1000;
  const ac = SD_SCHEDULE.alphasCumprod;
  const table = Array.from(ac, (a) => Math.sqrt((1 - a) / a));
  // np.linspace(0, T − 1, n + 1).round()[::-1][:-1]
  const timesteps = Array.from({ length: n + 1 }, (_, k) => npRound(k === n ? T - 1 : (k * (T - 1)) / n)).reverse().slice(0, n);
  const sigmas = [...timesteps.map((t) => table[t]!), o.finalSigmasType === 'zero' ? 0 : table[0]!];
  const alphaSigma = (s: number) => [1 / Math.sqrt(s * s + 1), s / Math.sqrt(s * s + 1)] as const;
  const lambda = (s: number) => {
    const [a, sg] = alphaSigma(s);
    return Math.log(a) - Math.log(sg);
  };

  const modelOutputs: (number[] | null)[] = new Array(o.solverOrder).fill(null);
  let lowerOrderNums = 0;
  let lastSample: number[] | null = null;
  let thisOrder = 0;
  let stepIndex = 0;

  const coefficients = (h: number, rks: number[], order: number) => {
    const hh = o.predictX0 ? -h : h;
    const hPhi1 = Math.expm1(hh);
    let hPhiK = hPhi1 / hh - 1;
    let factorialI = 1;
    const bH = o.solverType === 'bh1' ? hh : Math.expm1(hh);
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((r) => r ** (i - 1)));
      b.push((hPhiK * factorialI) / bH);
      factorialI *= i + 1;
      hPhiK = hPhiK / hh - 1 / factorialI;
    }
    return { hPhi1, bH, R, b };
  };

  const uniP = (x: number[], order: number): number[] => {
    const m0 = modelOutputs[modelOutputs.length - 1]!;
    const [alphaT, sigmaT] = alphaSigma(sigmas[stepIndex + 1]!);
    const [alphaS0, sigmaS0] = alphaSigma(sigmas[stepIndex]!);
    const h = lambda(sigmas[stepIndex + 1]!) - lambda(sigmas[stepIndex]!);
    const rks: number[] = [];
    const D1s: number[][] = [];
    for (let i = 1; i < order; i++) {
      const si = stepIndex - i;
      const mi = modelOutputs[modelOutputs.length - (i + 1)]!;
      const rk = (lambda(sigmas[si]!) - lambda(sigmas[stepIndex]!)) / h;
      rks.push(rk);
      D1s.push(scale(sub(mi, m0), 1 / rk));
    }
    rks.push(1);
    const { hPhi1, bH, R, b } = coefficients(h, rks, order);
    let rhosP: number[] = [];
    if (D1s.length > 0) {
      rhosP = order === 2 ? [0.5] : cramer(R.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
    }
    const predRes = D1s.reduce((acc, d, k) => add(acc, scale(d, rhosP[k]!)), x.map(() => 0));
    if (o.predictX0) {
      const xt_ = sub(scale(x, sigmaT / sigmaS0), scale(m0, alphaT * hPhi1));
      return sub(xt_, scale(predRes, alphaT * bH));
    }
    const xt_ = sub(scale(x, alphaT / alphaS0), scale(m0, sigmaT * hPhi1));
    return sub(xt_, scale(predRes, sigmaT * bH));
  };

  const uniC = (modelT: number[], last: number[], order: number): number[] => {
    const m0 = modelOutputs[modelOutputs.length - 1]!;
    const [alphaT, sigmaT] = alphaSigma(sigmas[stepIndex]!);
    const [alphaS0, sigmaS0] = alphaSigma(sigmas[stepIndex - 1]!);
    const h = lambda(sigmas[stepIndex]!) - lambda(sigmas[stepIndex - 1]!);
    const rks: number[] = [];
    const D1s: number[][] = [];
    for (let i = 1; i < order; i++) {
      const si = stepIndex - (i + 1);
      const mi = modelOutputs[modelOutputs.length - (i + 1)]!;
      const rk = (lambda(sigmas[si]!) - lambda(sigmas[stepIndex - 1]!)) / h;
      rks.push(rk);
      D1s.push(scale(sub(mi, m0), 1 / rk));
    }
    rks.push(1);
    const { hPhi1, bH, R, b } = coefficients(h, rks, order);
    const rhosC = order === 1 ? [0.5] : cramer(R, b);
    const corrRes = D1s.reduce((acc, d, k) => add(acc, scale(d, rhosC[k]!)), last.map(() => 0));
    const D1t = sub(modelT, m0);
    const res = add(corrRes, scale(D1t, rhosC[rhosC.length - 1]!));
    if (o.predictX0) {
      const xt_ = sub(scale(last, sigmaT / sigmaS0), scale(m0, alphaT * hPhi1));
      return sub(xt_, scale(res, alphaT * bH));
    }
    const xt_ = sub(scale(last, alphaT / alphaS0), scale(m0, sigmaT * hPhi1));
    return sub(xt_, scale(res, sigmaT * bH));
  };

  let sample = [...X_T];
  const samples: number[][] = [];
  for (stepIndex = 0; stepIndex < n; stepIndex++) {
    const out = model(sample, timesteps[stepIndex]!);
    const useCorrector = stepIndex > 0 && !o.disableCorrector.includes(stepIndex - 1) && lastSample !== null;
    const [alphaT, sigmaT] = alphaSigma(sigmas[stepIndex]!);
    const converted = o.predictX0 ? scale(sub(sample, scale(out, sigmaT)), 1 / alphaT) : out;
    if (useCorrector) sample = uniC(converted, lastSample!, thisOrder);
    for (let i = 0; i < o.solverOrder - 1; i++) modelOutputs[i] = modelOutputs[i + 1]!;
    modelOutputs[modelOutputs.length - 1] = converted;
    const order = o.lowerOrderFinal ? Math.min(o.solverOrder, n - stepIndex) : o.solverOrder;
    thisOrder = Math.min(order, lowerOrderNums + 1);
    lastSample = sample;
    sample = uniP(sample, thisOrder);
    if (lowerOrderNums < o.solverOrder) lowerOrderNums += 1;
    samples.push(sample);
  }
  return { timesteps, samples };
}

const DEFAULTS: RefOptions = {
  solverOrder: 2,
  solverType: 'bh2',
  predictX0: true,
  lowerOrderFinal: true,
  finalSigmasType: 'zero',
  disableCorrector: [],
};

describe('uniPC', () => {
  it('solves small systems as Cramer’s rule does', () => {
    const A = [[1, 2, 3], [0.5, -1, 4], [2, 0.3, -1]];
    const b = [1, -2, 0.5];
    solveLinear(A, b).forEach((v, k) => expect(v).toBeCloseTo(cramer(A, b)[k]!, 12));
  });

  const cases: [string, Partial<RefOptions>, number][] = [
    ['defaults: bh2, x0 prediction, order 2 with corrector', {}, 10],
    ['bh1', { solverType: 'bh1' }, 10],
    ['order 3', { solverOrder: 3 }, 12],
    ['order 3, bh1, no lower-order final steps, σ_min at the end', { solverOrder: 3, solverType: 'bh1', lowerOrderFinal: false, finalSigmasType: 'sigma_min' }, 12],
    ['noise prediction (predict_x0 false), σ_min at the end', { predictX0: false, finalSigmasType: 'sigma_min' }, 10],
    ['order 1 with corrector', { solverOrder: 1 }, 8],
    ['corrector disabled after steps 0 and 3', { disableCorrector: [0, 3] }, 10],
  ];
  for (const [name, o, n] of cases) {
    it(`steps as diffusers' UniPCMultistepScheduler: ${name}`, () => {
      const opts = { ...DEFAULTS, ...o };
      const ref = diffusersUniPC(n, opts);
      const got = runSampler(uniPC(opts as UniPCOptions), n, 'epsilon');
      expect(got.timesteps).toEqual(ref.timesteps);
      expect(got.leaked).toBe(0);
      got.samples.forEach((s, i) => {
        // bh1 with σ = 0 last: diffusers' order-1 update multiplies B(h) = −∞ by a zero residual
        // (NaN); the limit of the update there is the x0 prediction, which this package returns.
        if (ref.samples[i]!.some(Number.isNaN)) expect(o.solverType === 'bh1' && i === n - 1 && s.every(Number.isFinite)).toBe(true);
        else expect(maxRelDiff(s, ref.samples[i]!)).toBeLessThan(2e-4);
      });
    });
  }

  it('ends on the clean-sample prediction where diffusers’ noise form gives NaN (σ = 0 last)', () => {
    const got = runSampler(uniPC({ predictX0: false }), 10, 'epsilon');
    expect(got.samples[9]!.every(Number.isFinite)).toBe(true);
  });

  it('names bad options', () => {
    expect(() => uniPC({ solverOrder: 4 as never })).toThrow('solverOrder must be one of 1, 2, 3; got 4');
    expect(() => uniPC({ solverType: 'midpoint' as never })).toThrow("solverType must be one of 'bh1', 'bh2'; got 'midpoint'");
    expect(() => uniPC({ disableCorrector: 'x' as never })).toThrow(/disableCorrector must be an array of step indices/);
  });
});
