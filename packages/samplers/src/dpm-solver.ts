import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkTimestepSpacing, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { predictX0 } from './formulas.js';
import { dpmPlan, type FinalSigmas, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, DIFFUSERS_SIGMA_KINDS, DIFFUSERS_THRESHOLD, factoryOptionKeys, spacingOptions } from './entry.js';

export interface DpmSolverOptions extends SpacingOptions, SamplerBaseOptions {
  /** 2 (default) for DPM-Solver++(2M); 1 makes every step first order (DPM-Solver++(1), i.e. DDIM in λ). */
  solverOrder?: 1 | 2;
  /** Karras et al. 2022 noise levels (ρ = 7) over the whole training range. Default false. */
  useKarrasSigmas?: boolean;
  /** First-order final steps when there are fewer than 15 steps (diffusers' `lower_order_final`). Default true. */
  lowerOrderFinal?: boolean;
  /** Always end with a first-order step (diffusers' `euler_at_final`). Default false. */
  eulerAtFinal?: boolean;
  /** 'midpoint' or 'heun' form of the second-order correction (diffusers' `solver_type`). Default 'midpoint'. */
  solverType?: 'midpoint' | 'heun';
  /** The last noise level: 'zero' or σ at t = 0. Default 'zero'. */
  finalSigmasType?: FinalSigmas;
  /** Round Karras timesteps to integers (diffusers does, except for 'squaredcos_cap_v2'). Default true. */
  roundKarrasTimesteps?: boolean;
}

/**
 * DPM-Solver++(2M), Lu et al. 2022 Algorithm 2 (diffusers' DPMSolverMultistepScheduler
 * with algorithm_type 'dpmsolver++', solver_order 2). With α = √ᾱ, s = √(1−ᾱ), λ = log(α/s),
 * h = λ_{t'} − λ_t and r = h_prev / h:
 * x_{t'} = (s_{t'}/s_t) x_t − α_{t'} (e^{−h} − 1) D, D = (1 + 1/(2r)) x̂0_t − 1/(2r) x̂0_prev,
 * and D = x̂0_t on the first (and, by the rules above, the last) step.
 */
export function dpmSolverPlusPlus2M(options: DpmSolverOptions = {}): Sampler {
  checkOptions('dpmSolverPlusPlus2M', options, factoryOptionKeys(dpmSolverEntry));
  const solverType = options.solverType ?? 'midpoint';
  if (solverType !== 'midpoint' && solverType !== 'heun') {
    throw new Error(`solverType must be one of 'midpoint', 'heun'; got '${solverType}'`);
  }
  checkTimestepSpacing(options.timestepSpacing ?? 'linspace');
  const solverOrder = options.solverOrder ?? 2;
  if (solverOrder !== 1 && solverOrder !== 2) throw new Error(`solverOrder must be 1 or 2; got ${solverOrder}`);
  const finalZero = (options.finalSigmasType ?? 'zero') === 'zero';
  const plan = (schedule: NoiseSchedule, n: number) => dpmPlan(schedule, n, options);
  return {
    spec: { factory: 'dpmSolverPlusPlus2M', options },
    name: 'dpm-solver++(2m)',
    timesteps: (schedule, n) => plan(schedule, n).timesteps,
    alphasCumprod: (schedule, timesteps) => plan(schedule, timesteps.length).alphasCumprod,
    step(args: StepArgs): StepResult {
      const { i, sample, state } = args;
      const n = args.timesteps.length;
      const raw = predictX0(args.prediction, sample, args.modelOutput, args.alphaCumprod);
      const processor = args.x0Processor ?? options.x0Processor;
      const x0 = processor ? processor(raw) : raw;
      const alphaT = Math.sqrt(args.prevAlphaCumprod);
      const sigmaT = Math.sqrt(1 - args.prevAlphaCumprod);
      const sigmaS = Math.sqrt(1 - args.alphaCumprod);
      const lambdaS = Math.log(Math.sqrt(args.alphaCumprod)) - Math.log(sigmaS);
      const lambdaT = Math.log(alphaT) - Math.log(sigmaT);
      const h = lambdaT - lambdaS;
      const expm = Math.exp(-h) - 1;
      const prevX0 = state.getTensor<tf.Tensor4D>('x0');
      const prevLambda = state.get<number>('lambda');
      // diffusers counts steps taken (lower_order_nums), which an img2img start resets.
      const isLast = i === n - 1;
      const lowerOrderFinal = isLast && (options.eulerAtFinal || ((options.lowerOrderFinal ?? true) && n < 15) || finalZero);
      let prev: tf.Tensor;
      const first = tf.sub(tf.mul(sample, sigmaT / sigmaS), tf.mul(x0, alphaT * expm));
      if (solverOrder === 1 || prevX0 === undefined || prevLambda === undefined || lowerOrderFinal) {
        prev = first;
      } else {
        const r = (lambdaS - prevLambda) / h;
        const d1 = tf.mul(tf.sub(x0, prevX0), 1 / r);
        prev =
          solverType === 'midpoint'
            ? tf.sub(first, tf.mul(d1, 0.5 * alphaT * expm))
            : tf.add(first, tf.mul(d1, alphaT * (expm / h + 1)));
      }
      state.setTensor('x0', x0);
      state.set('lambda', lambdaS);
      return { prevSample: prev as tf.Tensor4D, predOriginalSample: x0 };
    },
  };
}

export const dpmSolverEntry = defineSampler({
  name: 'dpmpp-2m',
  factory: 'dpmSolverPlusPlus2M',
  label: 'DPM-Solver++ (2M)',
  create: dpmSolverPlusPlus2M,
  options: {
    ...spacingOptions('linspace'),
    solverOrder: { default: 2, doc: '2 for DPM-Solver++(2M); 1 makes every step first order.' },
    useKarrasSigmas: { default: false, doc: 'Karras et al. 2022 noise levels (ρ = 7) over the whole training range.' },
    lowerOrderFinal: { default: true, doc: "First-order final steps when there are fewer than 15 steps (diffusers' `lower_order_final`)." },
    eulerAtFinal: { default: false, doc: "Always end with a first-order step (diffusers' `euler_at_final`)." },
    solverType: { default: 'midpoint', doc: "'midpoint' or 'heun' form of the second-order correction (diffusers' `solver_type`)." },
    finalSigmasType: { default: 'zero', doc: "The last noise level: 'zero' or σ at t = 0 (diffusers' `final_sigmas_type`)." },
    roundKarrasTimesteps: { default: true, doc: "Round Karras timesteps to integers (diffusers does, except for 'squaredcos_cap_v2')." },
  },
  diffusers: {
    DPMSolverMultistepScheduler: {
      defaults: {
        ...DIFFUSERS_SCHEDULE, solver_order: 2, prediction_type: 'epsilon', ...DIFFUSERS_THRESHOLD, algorithm_type: 'dpmsolver++', solver_type: 'midpoint',
        lower_order_final: true, euler_at_final: false, ...DIFFUSERS_SIGMA_KINDS, use_lu_lambdas: false, use_flow_sigmas: false, flow_shift: 1,
        final_sigmas_type: 'zero', lambda_min_clipped: -Infinity, variance_type: null, timestep_spacing: 'linspace', steps_offset: 0,
        rescale_betas_zero_snr: false, use_dynamic_shifting: false, time_shift_type: 'exponential',
      },
      notImplemented: ['use_exponential_sigmas'],
      build(c) {
        const algorithm = c.oneOf('algorithm_type', ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++', 'deis'] as const);
        if (algorithm !== 'dpmsolver++' && algorithm !== 'deis') c.unsupported('algorithm_type', algorithm, "is not supported (only 'dpmsolver++')");
        const order = c.num('solver_order', (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
        if (order !== 1 && order !== 2) c.unsupported('solver_order', order, 'is not supported (1 or 2)');
        const variance = c.get('variance_type');
        if (variance === 'learned' || variance === 'learned_range') c.unsupported('variance_type', variance);
        const lambdaMin = c.get('lambda_min_clipped');
        if (lambdaMin !== -Infinity) c.unsupported('lambda_min_clipped', lambdaMin);
        // diffusers reads the other solvers' names as 'midpoint'.
        const solverType = c.oneOf('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'] as const);
        return dpmSolverPlusPlus2M({
          ...c.spacing(),
          solverOrder: order as 1 | 2,
          solverType: solverType === 'heun' ? 'heun' : 'midpoint',
          lowerOrderFinal: c.bool('lower_order_final'),
          eulerAtFinal: c.bool('euler_at_final'),
          useKarrasSigmas: c.sigmaPlan().useKarrasSigmas,
          finalSigmasType: c.finalSigmasType(),
          roundKarrasTimesteps: c.scheduleConfig.betaSchedule !== 'squaredcos_cap_v2',
          x0Processor: c.threshold(),
        });
      },
    },
  },
});
