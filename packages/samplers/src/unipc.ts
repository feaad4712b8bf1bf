import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkTimestepSpacing, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { predictEpsilon, predictX0 } from './formulas.js';
import { dpmPlan, type FinalSigmas, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, DIFFUSERS_SIGMA_KINDS, DIFFUSERS_THRESHOLD, factoryOptionKeys, spacingOptions } from './entry.js';

export interface UniPCOptions extends SpacingOptions, SamplerBaseOptions {
  /** Order p of the predictor (UniP-p); the corrector then reaches order p + 1. 1, 2 (default) or 3. */
  solverOrder?: 1 | 2 | 3;
  /** B(h) of the paper: 'bh1' (B(h) = h) or 'bh2' (B(h) = e^h − 1, default; better for guided sampling). */
  solverType?: 'bh1' | 'bh2';
  /** Solve for the data prediction x0 (UniPC with DPM-Solver++'s model; default true) or for the noise ε. */
  predictX0?: boolean;
  /** Lower the order on the last steps (diffusers' `lower_order_final`). Default true. */
  lowerOrderFinal?: boolean;
  /** Step indices after which the corrector is skipped (diffusers' `disable_corrector`). Default none. */
  disableCorrector?: readonly number[];
  /** Karras et al. 2022 noise levels (ρ = 7) over the whole training range. Default false. */
  useKarrasSigmas?: boolean;
  /** The last noise level: 'zero' (default) or σ at t = 0. */
  finalSigmasType?: FinalSigmas;
}

/** Solves the small dense system A x = b (Gaussian elimination with partial pivoting). */
export function solveLinear(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const m = A.map((row, i) => [...row.slice(0, n), b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}

/**
 * The B(h) coefficients of UniPC (Zhao et al. 2023, "UniPC", Algorithms 2–3 with the
 * B(h) variants of their Appendix): with hh = −h for the data prediction (h for the noise),
 * φ_1 = e^{hh} − 1, then for i = 1…order the rows R_i = r^{i−1} and
 * b_i = i! φ_{i+1}(hh) / B(h), φ_{k+1} = φ_k / hh − 1/k!.
 */
export function uniPCCoefficients(h: number, rks: readonly number[], order: number, predictX0: boolean, solverType: 'bh1' | 'bh2') {
  const hh = predictX0 ? -h : h;
  const hPhi1 = Math.expm1(hh);
  const bH = solverType === 'bh1' ? hh : Math.expm1(hh);
  let hPhiK = hPhi1 / hh - 1;
  let factorial = 1;
  const R: number[][] = [];
  const b: number[] = [];
  for (let i = 1; i <= order; i++) {
    R.push(rks.map((r) => r ** (i - 1)));
    b.push((hPhiK * factorial) / bH);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  return { hPhi1, bH, R, b };
}

const lambdaOf = (alphaCumprod: number): number => 0.5 * (Math.log(alphaCumprod) - Math.log1p(-alphaCumprod));

/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling
 * of Diffusion Models", Algorithms 2 (UniC) and 3 (UniP), B(h) variants), as diffusers'
 * UniPCMultistepScheduler. With α = √ᾱ, s = √(1−ᾱ), λ = log(α/s), h = λ_t − λ_{s0},
 * r_k = (λ_{s_k} − λ_{s0})/h and D_k = (m_{s_k} − m_{s0})/r_k over the stored model outputs m
 * (x0 predictions with `predictX0`), the predictor is
 *   x_t = (s_t/s_{s0}) x − α_t (e^{−h} − 1) m_{s0} − α_t B(h) Σ_k ρ_k D_k
 * (ρ = ½ at order 2, else R ρ = b without the last row and column), and the corrector,
 * run at the start of the next step with the model output m_t at the predicted x_t, redoes the
 * step from the same x with ρ^c solving R ρ = b (ρ^c = ½ at order 1) and D_t = m_t − m_{s0}.
 */
export function uniPC(options: UniPCOptions = {}): Sampler {
  checkOptions('uniPC', options, factoryOptionKeys(uniPCEntry));
  const solverOrder = options.solverOrder ?? 2;
  if (solverOrder !== 1 && solverOrder !== 2 && solverOrder !== 3) throw new RangeError(`solverOrder must be one of 1, 2, 3; got ${String(solverOrder)}`);
  const solverType = options.solverType ?? 'bh2';
  if (solverType !== 'bh1' && solverType !== 'bh2') throw new RangeError(`solverType must be one of 'bh1', 'bh2'; got '${String(solverType)}'`);
  const useX0 = options.predictX0 ?? true;
  const lowerOrderFinal = options.lowerOrderFinal ?? true;
  const disable = options.disableCorrector ?? [];
  if (!Array.isArray(disable) || !disable.every((k) => Number.isInteger(k))) {
    throw new TypeError(`disableCorrector must be an array of step indices; got ${JSON.stringify(disable)}`);
  }
  checkTimestepSpacing(options.timestepSpacing ?? 'linspace');
  const plan = (schedule: NoiseSchedule, n: number) => dpmPlan(schedule, n, { ...options, roundKarrasTimesteps: true });

  return {
    spec: { factory: 'uniPC', options },
    name: 'unipc',
    timesteps: (schedule, n) => plan(schedule, n).timesteps,
    alphasCumprod: (schedule, timesteps) => plan(schedule, timesteps.length).alphasCumprod,
    step(args: StepArgs): StepResult {
      const { i, state } = args;
      const n = args.timesteps.length;
      const levels = args.alphasCumprod;
      const processor = args.x0Processor ?? options.x0Processor;
      const raw = predictX0(args.prediction, args.sample, args.modelOutput, args.alphaCumprod);
      const x0 = processor ? processor(raw) : raw;
      // The model output in the form the solver integrates (diffusers' convert_model_output).
      const m = useX0 ? x0 : predictEpsilon(args.prediction, args.sample, args.modelOutput, args.alphaCumprod);
      // history[0] is the newest stored output; lambdas alongside.
      const count = state.get<number>('count') ?? 0;
      const history = Array.from({ length: count }, (_, k) => state.getTensor<tf.Tensor4D>(`m${k}`)!);
      const lambdas = state.get<number[]>('lambdas') ?? [];
      const lowerOrderNums = state.get<number>('lowerOrderNums') ?? 0;

      /** One UniP/UniC update from x at level aS0 to level aT, with the stored outputs as the multistep history. */
      const update = (x: tf.Tensor4D, aS0: number, aT: number, order: number, outputs: tf.Tensor4D[], lams: number[], mT?: tf.Tensor4D): tf.Tensor4D => {
        const alphaT = Math.sqrt(aT);
        const sigmaT = Math.sqrt(1 - aT);
        const alphaS0 = Math.sqrt(aS0);
        const sigmaS0 = Math.sqrt(1 - aS0);
        const m0 = outputs[0]!;
        const h = lambdaOf(aT) - lams[0]!;
        const corrector = mT !== undefined;
        const k = order - 1; // history terms D_1 … D_{order−1}
        const rks: number[] = [];
        const d1s: tf.Tensor4D[] = [];
        for (let j = 1; j <= k; j++) {
          const rk = (lams[j]! - lams[0]!) / h;
          rks.push(rk);
          d1s.push(tf.div(tf.sub(outputs[j]!, m0), rk) as tf.Tensor4D);
        }
        rks.push(1);
        const { hPhi1, bH, R, b } = uniPCCoefficients(h, rks, order, useX0, solverType);
        const base = useX0
          ? tf.sub(tf.mul(x, sigmaT / sigmaS0), tf.mul(m0, alphaT * hPhi1))
          : tf.sub(tf.mul(x, alphaT / alphaS0), tf.mul(m0, sigmaT * hPhi1));
        const scale = (useX0 ? alphaT : sigmaT) * bH;
        let res: tf.Tensor | undefined;
        if (corrector) {
          const rhos = order === 1 ? [0.5] : solveLinear(R, b);
          res = tf.mul(tf.sub(mT, m0), rhos[order - 1]!);
          for (let j = 0; j < d1s.length; j++) res = tf.add(res, tf.mul(d1s[j]!, rhos[j]!));
        } else if (d1s.length > 0) {
          const rhos = order === 2 ? [0.5] : solveLinear(R.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1));
          res = tf.mul(d1s[0]!, rhos[0]!);
          for (let j = 1; j < d1s.length; j++) res = tf.add(res, tf.mul(d1s[j]!, rhos[j]!));
        }
        return (res ? tf.sub(base, tf.mul(res, scale)) : base) as tf.Tensor4D;
      };

      let x = args.sample;
      const last = state.getTensor<tf.Tensor4D>('lastSample');
      const lastOrder = state.get<number>('order');
      if (last && lastOrder !== undefined && i > 0 && !disable.includes(i - 1)) {
        x = update(last, state.get<number>('lastLevel')!, args.alphaCumprod, lastOrder, history, lambdas, m);
      }
      // Shift the history: the newest output first, at most solverOrder kept.
      const outputs = [m, ...history].slice(0, solverOrder);
      const lams = [lambdaOf(args.alphaCumprod), ...lambdas].slice(0, solverOrder);
      let order = lowerOrderFinal ? Math.min(solverOrder, n - i) : solverOrder;
      order = Math.min(order, lowerOrderNums + 1);
      let prev: tf.Tensor4D;
      if (args.prevAlphaCumprod >= 1) {
        // The step to σ = 0: every order's update tends to the clean-sample prediction there
        // (diffusers' formulas give 0·∞ = NaN for the noise form and for higher orders).
        order = 1;
        prev = useX0 ? m : (tf.div(tf.sub(x, tf.mul(m, Math.sqrt(1 - args.alphaCumprod))), Math.sqrt(args.alphaCumprod)) as tf.Tensor4D);
      } else {
        prev = update(x, args.alphaCumprod, args.prevAlphaCumprod, order, outputs, lams);
      }
      // Newest last: each stored tensor is copied before the slot it came from is overwritten.
      for (let k = outputs.length - 1; k >= 0; k--) state.setTensor(`m${k}`, outputs[k]!);
      state.set('count', outputs.length);
      state.set('lambdas', lams);
      state.setTensor('lastSample', x);
      state.set('lastLevel', args.alphaCumprod);
      state.set('order', order);
      state.set('lowerOrderNums', Math.min(lowerOrderNums + 1, solverOrder));
      return { prevSample: prev, predOriginalSample: x0 };
    },
  };
}

export const uniPCEntry = defineSampler({
  name: 'unipc',
  factory: 'uniPC',
  label: 'UniPC',
  create: uniPC,
  options: {
    ...spacingOptions('linspace'),
    solverOrder: { default: 2, doc: 'Order p of the predictor (UniP-p); the corrector then reaches order p + 1. 1, 2 or 3.' },
    solverType: { default: 'bh2', doc: "B(h): 'bh1' (B(h) = h) or 'bh2' (B(h) = e^h − 1)." },
    predictX0: { default: true, doc: 'Solve for the data prediction x0 (true) or for the noise ε.' },
    lowerOrderFinal: { default: true, doc: "Lower the order on the last steps (diffusers' `lower_order_final`)." },
    disableCorrector: { default: [], doc: "Step indices after which the corrector is skipped (diffusers' `disable_corrector`)." },
    useKarrasSigmas: { default: false, doc: 'Karras et al. 2022 noise levels (ρ = 7) over the whole training range.' },
    finalSigmasType: { default: 'zero', doc: "The last noise level: 'zero' or σ at t = 0 (diffusers' `final_sigmas_type`)." },
  },
  diffusers: {
    UniPCMultistepScheduler: {
      defaults: {
        ...DIFFUSERS_SCHEDULE, solver_order: 2, prediction_type: 'epsilon', ...DIFFUSERS_THRESHOLD, predict_x0: true, solver_type: 'bh2', lower_order_final: true,
        disable_corrector: [], solver_p: null, ...DIFFUSERS_SIGMA_KINDS, use_flow_sigmas: false, flow_shift: 1, timestep_spacing: 'linspace',
        steps_offset: 0, final_sigmas_type: 'zero', rescale_betas_zero_snr: false, use_dynamic_shifting: false,
        time_shift_type: 'exponential', sigma_min: null, sigma_max: null, shift_terminal: null,
      },
      notImplemented: ['use_exponential_sigmas'],
      build(c) {
        const order = c.num('solver_order', (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
        if (order > 3) c.unsupported('solver_order', order, 'is not supported (1, 2 or 3)');
        // diffusers reads the DPM-Solver names as 'bh2'.
        const solverType = c.oneOf('solver_type', ['bh1', 'bh2', 'midpoint', 'heun', 'logrho'] as const);
        const disable = c.get('disable_corrector');
        if (!Array.isArray(disable) || !disable.every((k) => Number.isInteger(k))) {
          throw new TypeError(`disable_corrector must be a list of step indices; got ${JSON.stringify(disable)}`);
        }
        return uniPC({
          ...c.spacing(),
          solverOrder: order as 1 | 2 | 3,
          solverType: solverType === 'bh1' ? 'bh1' : 'bh2',
          predictX0: c.bool('predict_x0'),
          lowerOrderFinal: c.bool('lower_order_final'),
          disableCorrector: disable as number[],
          useKarrasSigmas: c.sigmaPlan().useKarrasSigmas,
          finalSigmasType: c.finalSigmasType(),
          x0Processor: c.threshold(),
        });
      },
    },
  },
});
