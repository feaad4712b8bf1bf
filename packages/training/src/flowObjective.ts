import { checkOptions, optionKeys, shiftSigma, type Rng } from '@tfjs-diffusion/schedules';

/*
 * The flow-matching objective (Lipman et al. 2023; Esser et al. 2024, SD3): x_σ = (1 − σ) x0 + σ ε,
 * target ε − x0, the model at timestep σ·T. σ is drawn as diffusers' SD3 / Flux training scripts draw it:
 * u from `compute_density_for_timestep_sampling`, index ⌊u·T⌋ into the scheduler's training sigmas
 * shift((T − i)/T), and each sample's loss weighted by `compute_loss_weighting_for_sd3`.
 */

/** How u ∈ [0, 1) is drawn: sigmoid of N(logitMean, logitStd²), the mode density with `modeScale`, or uniform. */
export const FLOW_DENSITIES = ['logit_normal', 'mode', 'uniform'] as const;
export type FlowDensity = (typeof FLOW_DENSITIES)[number];
/** Per-sample loss weights: 1/σ² ('sigma_sqrt'), 2/(π(1 − 2σ + 2σ²)) ('cosmap'), or 1 ('none'). */
export const FLOW_WEIGHTINGS = ['sigma_sqrt', 'cosmap', 'none'] as const;
export type FlowWeighting = (typeof FLOW_WEIGHTINGS)[number];

export interface FlowObjectiveOptions {
  /** Default 'logit_normal' (the SD3 scripts' default `weighting_scheme`). */
  density?: FlowDensity;
  /** Of 'logit_normal' (diffusers' `logit_mean`, `logit_std`). Defaults 0 and 1. */
  logitMean?: number;
  logitStd?: number;
  /** Of 'mode' (diffusers' `mode_scale`). Default 1.29. */
  modeScale?: number;
  /** Default 'none'. */
  weighting?: FlowWeighting;
  /** The training sigmas' shift, as the scheduler config's `shift` (SD3: 3). Default 1. */
  shift?: number;
}

export const FLOW_OBJECTIVE_KEYS = optionKeys<FlowObjectiveOptions>()(['density', 'logitMean', 'logitStd', 'modeScale', 'weighting', 'shift']);

export type ResolvedFlowObjective = Required<FlowObjectiveOptions>;

function oneOf<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${where}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function finite(where: string, name: string, value: unknown, test: (x: number) => boolean = () => true, what = 'a finite number'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !test(value)) throw new RangeError(`${where}: ${name} must be ${what}; got ${String(value)}`);
  return value;
}

/** The options with their defaults, every key and value checked (errors name `where` and the option). */
export function resolveFlowObjective(options: FlowObjectiveOptions = {}, where = 'flow'): ResolvedFlowObjective {
  checkOptions(where, options, FLOW_OBJECTIVE_KEYS, 'flow');
  return {
    density: oneOf(where, 'flow.density', options.density ?? 'logit_normal', FLOW_DENSITIES),
    logitMean: finite(where, 'flow.logitMean', options.logitMean ?? 0),
    logitStd: finite(where, 'flow.logitStd', options.logitStd ?? 1, (x) => x > 0, 'a number > 0'),
    modeScale: finite(where, 'flow.modeScale', options.modeScale ?? 1.29),
    weighting: oneOf(where, 'flow.weighting', options.weighting ?? 'none', FLOW_WEIGHTINGS),
    shift: finite(where, 'flow.shift', options.shift ?? 1, (x) => x > 0, 'a number > 0'),
  };
}

/** n draws of u (diffusers' `compute_density_for_timestep_sampling`), from `rng`. */
export function flowDensitySample(o: Pick<ResolvedFlowObjective, 'density' | 'logitMean' | 'logitStd' | 'modeScale'>, n: number, rng: Rng): Float64Array {
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (o.density === 'logit_normal') u[i] = 1 / (1 + Math.exp(-(o.logitMean + o.logitStd * rng.normal())));
    else if (o.density === 'mode') {
      const r = rng.next();
      u[i] = 1 - r - o.modeScale * (Math.cos((Math.PI * r) / 2) ** 2 - 1 + r);
    } else u[i] = rng.next();
  }
  return u;
}

/** σ of each u: the scheduler's training sigma at index ⌊u·T⌋ (clamped to [0, T − 1]), shift((T − i)/T). */
export function flowTrainingSigmas(u: ArrayLike<number>, numTrainTimesteps: number, shift = 1): Float64Array {
  const T = numTrainTimesteps;
  return Float64Array.from(u, (x) => {
    const i = Math.min(Math.max(Math.floor(x * T), 0), T - 1);
    return shiftSigma((T - i) / T, shift);
  });
}

/** diffusers' `compute_loss_weighting_for_sd3`. */
export function flowLossWeights(weighting: FlowWeighting, sigmas: ArrayLike<number>): Float32Array {
  return Float32Array.from(sigmas, (s) => {
    if (weighting === 'sigma_sqrt') return 1 / (s * s);
    if (weighting === 'cosmap') return 2 / (Math.PI * (1 - 2 * s + 2 * s * s));
    return 1;
  });
}
