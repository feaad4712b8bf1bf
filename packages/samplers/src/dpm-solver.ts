import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkTimestepSpacing, optionKeys, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { predictX0 } from './formulas.js';
import { dpmPlan, type FinalSigmas, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';

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

const DPM_SOLVER_KEYS = optionKeys<DpmSolverOptions>()([
  'solverOrder', 'useKarrasSigmas', 'lowerOrderFinal', 'eulerAtFinal', 'solverType', 'finalSigmasType', 'roundKarrasTimesteps',
  'timestepSpacing', 'stepsOffset', 'x0Processor',
]);

/**
 * DPM-Solver++(2M), Lu et al. 2022 Algorithm 2 (diffusers' DPMSolverMultistepScheduler
 * with algorithm_type 'dpmsolver++', solver_order 2). With α = √ᾱ, s = √(1−ᾱ), λ = log(α/s),
 * h = λ_{t'} − λ_t and r = h_prev / h:
 * x_{t'} = (s_{t'}/s_t) x_t − α_{t'} (e^{−h} − 1) D, D = (1 + 1/(2r)) x̂0_t − 1/(2r) x̂0_prev,
 * and D = x̂0_t on the first (and, by the rules above, the last) step.
 */
export function dpmSolverPlusPlus2M(options: DpmSolverOptions = {}): Sampler {
  checkOptions('dpmSolverPlusPlus2M', options, DPM_SOLVER_KEYS);
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
