import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkTimestepSpacing, type NoiseSchedule, timesteps as scheduleTimesteps } from '@tfjs-diffusion/schedules';
import { epsilonFromX0, predictEpsilon } from './formulas.js';
import { checkSteps, type SpacingOptions } from './grids.js';
import type { Sampler, SamplerBaseOptions, StepArgs, StepResult } from './types.js';
import { defineSampler, DIFFUSERS_SCHEDULE, factoryOptionKeys, spacingOptions } from './entry.js';

export interface PndmOptions extends SpacingOptions, SamplerBaseOptions {
  /**
   * Skip the Runge–Kutta warm-up and start the linear multistep with one Heun-like step
   * (diffusers' `skip_prk_steps`; Stable Diffusion's configs set it). Default false, as diffusers.
   */
  skipPrkSteps?: boolean;
  /** The level after the last step: ᾱ = 1 (clean) or ᾱ_0 (diffusers' `set_alpha_to_one`). Default false, as diffusers' PNDM. */
  setAlphaToOne?: boolean;
}

/** The model timesteps of a PNDM run and, for each call, the timestep the update starts from and the one it lands on. */
interface PndmPlan {
  timesteps: number[];
  from: number[];
  to: number[];
}

const PRK_CALLS = 12;

function pndmPlan(schedule: NoiseSchedule, n: number, o: PndmOptions): PndmPlan {
  checkSteps(n);
  const T = schedule.numTrainTimesteps;
  const spacing = checkTimestepSpacing(o.timestepSpacing ?? 'leading');
  const ts = scheduleTimesteps(schedule, n, { timestepSpacing: spacing, stepsOffset: o.stepsOffset ?? 0 }).reverse(); // ascending
  const ratio = Math.floor(T / n);
  const plan: PndmPlan = { timesteps: [], from: [], to: [] };
  if (o.skipPrkSteps) {
    // diffusers: concatenate(ts[:-1], ts[-2:-1], ts[-1:])[::-1]
    plan.timesteps = [...ts.slice(0, -1), ...ts.slice(-2, -1), ...ts.slice(-1)].reverse();
  } else {
    if (n < 4) throw new RangeError(`numInferenceSteps must be >= 4 with the Runge–Kutta warm-up (skipPrkSteps: false); got ${n}`);
    const half = Math.floor(ratio / 2);
    const last4 = ts.slice(-4);
    const doubled = last4.flatMap((t) => [t, t + half]).slice(0, -1); // repeat(2) + tile([0, half]), then [:-1]
    const prk = doubled.flatMap((t) => [t, t]).slice(1, -1).reverse();
    plan.timesteps = [...prk, ...ts.slice(0, -3).reverse()];
  }
  plan.timesteps.forEach((t, c) => {
    if (!o.skipPrkSteps && c < PRK_CALLS) {
      plan.from.push(plan.timesteps[Math.floor(c / 4) * 4]!);
      plan.to.push(t - (c % 2 ? 0 : Math.floor(ratio / 2)));
    } else if (o.skipPrkSteps && c === 1) {
      plan.from.push(t + ratio);
      plan.to.push(t);
    } else {
      plan.from.push(t);
      plan.to.push(t - ratio);
    }
  });
  return plan;
}

/** How many inference steps a run of `length` model calls has. */
function stepsOf(length: number, skipPrkSteps: boolean): number {
  return skipPrkSteps ? Math.max(1, length - 1) : length - (PRK_CALLS - 3);
}

/**
 * PNDM (Liu et al. 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds"),
 * as diffusers' PNDMScheduler. Every update is the paper's transfer part, eq. (9):
 *   x_{t−δ} = √(ᾱ_{t−δ}/ᾱ_t) x_t − (ᾱ_{t−δ} − ᾱ_t) ε / (ᾱ_t √(1−ᾱ_{t−δ}) + √(ᾱ_t (1−ᾱ_t) ᾱ_{t−δ})),
 * i.e. a DDIM step with the noise ε replaced by the method's combination of model outputs e:
 * PLMS (eq. 12) uses (55 e_t − 59 e_{t+δ} + 37 e_{t+2δ} − 9 e_{t+3δ})/24, after a warm-up of
 * three Runge–Kutta steps (eq. 13, four model calls each) or, with `skipPrkSteps`, of the lower
 * orders (e_t; (e_t + e'_{t−δ})/2 from the same x_t, a Heun-like step; (3e − e)/2;
 * (23e − 16e + 5e)/12), as crowsonkb's PLMS for latent diffusion. Outputs are combined as the
 * model gives them and turned into ε at the update (so v-prediction works as in diffusers).
 */
export function pndm(options: PndmOptions = {}): Sampler {
  checkOptions('pndm', options, factoryOptionKeys(pndmEntry));
  const skip = options.skipPrkSteps ?? false;
  const setAlphaToOne = options.setAlphaToOne ?? false;
  checkTimestepSpacing(options.timestepSpacing ?? 'leading');
  const planFor = (schedule: NoiseSchedule, n: number) => pndmPlan(schedule, n, options);
  const finalLevel = (schedule: NoiseSchedule) => (setAlphaToOne ? 1 : schedule.alphasCumprod[0]!);
  const level = (schedule: NoiseSchedule, t: number) => (t >= 0 ? schedule.alphasCumprod[t]! : finalLevel(schedule));
  return {
    spec: { factory: 'pndm', options },
    name: 'pndm',
    timesteps: (schedule, n) => {
      const plan = planFor(schedule, n);
      // The update scales by √(ᾱ_prev / ᾱ_t), as diffusers' PNDMScheduler does: at ᾱ = 0 (zero terminal SNR) it is infinite.
      const t0 = plan.timesteps.find((t) => schedule.alphasCumprod[t] === 0);
      if (t0 !== undefined) {
        throw new RangeError(`pndm: the schedule's ᾱ is 0 at timestep ${t0} (zero terminal SNR), where PNDM's update divides by √ᾱ; use ddim, euler, heun, dpmpp-2m, lms or unipc`);
      }
      return plan.timesteps;
    },
    alphasCumprod(schedule, timesteps) {
      const plan = planFor(schedule, stepsOf(timesteps.length, skip));
      return [level(schedule, plan.timesteps[0]!), ...plan.to.map((t) => level(schedule, t))];
    },
    step(args: StepArgs): StepResult {
      const { state, schedule } = args;
      const processor = args.x0Processor ?? options.x0Processor;
      const n = stepsOf(args.timesteps.length, skip);
      const ratio = Math.floor(schedule.numTrainTimesteps / n);
      // diffusers counts the calls since set_timesteps (an img2img start counts from 0 too).
      const counter = state.get<number>('counter') ?? 0;
      const e = args.modelOutput;
      const count = state.get<number>('ets') ?? 0;
      let ets = Array.from({ length: count }, (_, k) => state.getTensor<tf.Tensor4D>(`e${k}`)!); // newest first
      let sample = args.sample;
      let modelOutput: tf.Tensor4D;
      let from: number;
      let to: number;

      if (!skip && counter < PRK_CALLS) {
        // Runge–Kutta warm-up: four calls per step, all updates from the step's first sample.
        const t = args.t;
        to = t - (counter % 2 ? 0 : Math.floor(ratio / 2));
        from = args.timesteps[Math.floor(counter / 4) * 4]!;
        const acc = state.getTensor<tf.Tensor4D>('rk');
        if (counter % 4 === 0) {
          state.setTensor('rk', tf.mul(e, 1 / 6));
          ets = [e, ...ets];
          state.setTensor('curSample', sample);
          modelOutput = e;
        } else if (counter % 4 === 3) {
          modelOutput = tf.add(acc!, tf.mul(e, 1 / 6)) as tf.Tensor4D;
        } else {
          state.setTensor('rk', tf.add(acc!, tf.mul(e, 1 / 3)));
          modelOutput = e;
        }
        sample = state.getTensor<tf.Tensor4D>('curSample') ?? sample;
      } else {
        if (!skip && ets.length < 3) throw new Error('pndm: the linear multistep needs the three Runge–Kutta steps first');
        from = args.t;
        to = args.t - ratio;
        if (counter !== 1) {
          ets = [e, ...ets].slice(0, 4);
        } else {
          to = args.t;
          from = args.t + ratio;
        }
        const [e1, e2, e3, e4] = ets;
        if (ets.length === 1 && counter === 0) {
          modelOutput = e;
          state.setTensor('curSample', sample);
        } else if (ets.length === 1 && counter === 1) {
          modelOutput = tf.div(tf.add(e, e1!), 2) as tf.Tensor4D;
          sample = state.getTensor<tf.Tensor4D>('curSample')!;
        } else if (ets.length === 2) {
          modelOutput = tf.div(tf.sub(tf.mul(e1!, 3), e2!), 2) as tf.Tensor4D;
        } else if (ets.length === 3) {
          modelOutput = tf.div(tf.add(tf.sub(tf.mul(e1!, 23), tf.mul(e2!, 16)), tf.mul(e3!, 5)), 12) as tf.Tensor4D;
        } else {
          const s = tf.add(tf.sub(tf.mul(e1!, 55), tf.mul(e2!, 59)), tf.sub(tf.mul(e3!, 37), tf.mul(e4!, 9)));
          modelOutput = tf.div(s, 24) as tf.Tensor4D;
        }
      }

      // eq. (9) in its DDIM form: x̂0 from the combined output, then to the next level.
      const at = level(schedule, from);
      const ap = level(schedule, to);
      let eps = predictEpsilon(args.prediction, sample, modelOutput, at);
      let x0 = tf.div(tf.sub(sample, tf.mul(eps, Math.sqrt(1 - at))), Math.sqrt(at)) as tf.Tensor4D;
      if (processor) {
        x0 = processor(x0);
        eps = epsilonFromX0(sample, x0, at);
      }
      const prev = tf.add(tf.mul(x0, Math.sqrt(ap)), tf.mul(eps, Math.sqrt(1 - ap))) as tf.Tensor4D;

      for (let k = ets.length - 1; k >= 0; k--) state.setTensor(`e${k}`, ets[k]!);
      state.set('ets', ets.length);
      state.set('counter', counter + 1);
      return { prevSample: prev, predOriginalSample: x0 };
    },
  };
}

export const pndmEntry = defineSampler({
  name: 'pndm',
  factory: 'pndm',
  label: 'PNDM',
  create: pndm,
  options: {
    ...spacingOptions('leading'),
    skipPrkSteps: { default: false, doc: "Start the linear multistep with one Heun-like step instead of the Runge–Kutta warm-up (diffusers' `skip_prk_steps`)." },
    setAlphaToOne: { default: false, doc: "The level after the last step: ᾱ = 1 (clean) or ᾱ_0 (diffusers' `set_alpha_to_one`)." },
  },
  // The warm-up needs 4 or more steps and the default ends at ᾱ_0, not on the clean sample.
  uniformOptions: { skipPrkSteps: true, setAlphaToOne: true },
  diffusers: {
    PNDMScheduler: {
      defaults: { ...DIFFUSERS_SCHEDULE, skip_prk_steps: false, set_alpha_to_one: false, prediction_type: 'epsilon', timestep_spacing: 'leading', steps_offset: 0 },
      build: (c) => pndm({ ...c.spacing(), skipPrkSteps: c.bool('skip_prk_steps'), setAlphaToOne: c.bool('set_alpha_to_one') }),
    },
  },
});
