import {
  parseDiffusersConfig,
  scheduleFromDiffusersConfig,
  TIMESTEP_SPACINGS,
  type NoiseSchedule,
  type Prediction,
  type ScheduleConfig,
} from '@tfjs-diffusion/schedules';
import { clip } from './clip.js';
import { ddim } from './ddim.js';
import { ddpm } from './ddpm.js';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { dynamicThreshold } from './dynamic-threshold.js';
import { euler } from './euler.js';
import { eulerAncestral } from './euler-ancestral.js';
import { heun } from './heun.js';
import { lms } from './lms.js';
import { pndm } from './pndm.js';
import type { Sampler, X0Processor } from './types.js';
import { uniPC } from './unipc.js';

type Defaults = Readonly<Record<string, unknown>>;

// Every class's constructor arguments with their defaults, as diffusers' scheduling_*.py declare
// them: diffusers passes a class exactly these keys of a config and ignores the others.
const SCHEDULE = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null };
const THRESHOLD = { thresholding: false, dynamic_thresholding_ratio: 0.995, sample_max_value: 1 };
const CLIP = { clip_sample: true, clip_sample_range: 1 };
const SIGMA_KINDS = { use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false };
const CLASSES = {
  DDPMScheduler: {
    ...SCHEDULE, variance_type: 'fixed_small', ...CLIP, prediction_type: 'epsilon', ...THRESHOLD,
    timestep_spacing: 'leading', steps_offset: 0, rescale_betas_zero_snr: false,
  },
  DDIMScheduler: {
    ...SCHEDULE, ...CLIP, set_alpha_to_one: true, steps_offset: 0, prediction_type: 'epsilon', ...THRESHOLD,
    timestep_spacing: 'leading', rescale_betas_zero_snr: false,
  },
  PNDMScheduler: {
    ...SCHEDULE, skip_prk_steps: false, set_alpha_to_one: false, prediction_type: 'epsilon', timestep_spacing: 'leading', steps_offset: 0,
  },
  EulerDiscreteScheduler: {
    ...SCHEDULE, prediction_type: 'epsilon', interpolation_type: 'linear', ...SIGMA_KINDS, sigma_min: null, sigma_max: null,
    timestep_spacing: 'linspace', timestep_type: 'discrete', steps_offset: 0, rescale_betas_zero_snr: false, final_sigmas_type: 'zero',
  },
  EulerAncestralDiscreteScheduler: {
    ...SCHEDULE, prediction_type: 'epsilon', timestep_spacing: 'linspace', steps_offset: 0, rescale_betas_zero_snr: false,
  },
  HeunDiscreteScheduler: {
    ...SCHEDULE, beta_start: 0.00085, beta_end: 0.012, prediction_type: 'epsilon', ...SIGMA_KINDS, clip_sample: false,
    clip_sample_range: 1, timestep_spacing: 'linspace', steps_offset: 0,
  },
  LMSDiscreteScheduler: {
    ...SCHEDULE, ...SIGMA_KINDS, prediction_type: 'epsilon', timestep_spacing: 'linspace', steps_offset: 0,
  },
  DPMSolverMultistepScheduler: {
    ...SCHEDULE, solver_order: 2, prediction_type: 'epsilon', ...THRESHOLD, algorithm_type: 'dpmsolver++', solver_type: 'midpoint',
    lower_order_final: true, euler_at_final: false, ...SIGMA_KINDS, use_lu_lambdas: false, use_flow_sigmas: false, flow_shift: 1,
    final_sigmas_type: 'zero', lambda_min_clipped: -Infinity, variance_type: null, timestep_spacing: 'linspace', steps_offset: 0,
    rescale_betas_zero_snr: false, use_dynamic_shifting: false, time_shift_type: 'exponential',
  },
  UniPCMultistepScheduler: {
    ...SCHEDULE, solver_order: 2, prediction_type: 'epsilon', ...THRESHOLD, predict_x0: true, solver_type: 'bh2', lower_order_final: true,
    disable_corrector: [], solver_p: null, ...SIGMA_KINDS, use_flow_sigmas: false, flow_shift: 1, timestep_spacing: 'linspace',
    steps_offset: 0, final_sigmas_type: 'zero', rescale_betas_zero_snr: false, use_dynamic_shifting: false,
    time_shift_type: 'exponential', sigma_min: null, sigma_max: null, shift_terminal: null,
  },
} satisfies Record<string, Defaults>;

export type DiffusersSchedulerName = keyof typeof CLASSES;
/** The diffusers scheduler classes `fromDiffusersConfig` builds (their `Flax*` twins read as them). */
export const SUPPORTED_DIFFUSERS_SCHEDULERS = Object.keys(CLASSES) as DiffusersSchedulerName[];

// Keys a class accepts whose non-default values this package does not implement.
const NOT_IMPLEMENTED = [
  'use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas', 'use_dynamic_shifting',
  'sigma_min', 'sigma_max', 'solver_p', 'shift_terminal',
];

export interface FromDiffusersConfigOptions {
  /**
   * Build this sampler class from the config instead of the one in `_class_name`, as diffusers'
   * `EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)`: the schedule and the keys
   * the class shares carry over, the others are ignored.
   */
  as?: DiffusersSchedulerName | `Flax${DiffusersSchedulerName}`;
  /** DDIM's η (a `step` argument in diffusers, not a config key). Default 0. */
  eta?: number;
}

export interface FromDiffusersConfigResult {
  sampler: Sampler;
  schedule: NoiseSchedule;
  prediction: Prediction;
  /** The class built (a `Flax*` name reads as the class without the prefix). */
  className: DiffusersSchedulerName;
  /** The schedule part, camelCased, as passed to `makeSchedule`. */
  scheduleConfig: ScheduleConfig;
  /** Config keys the class does not take, ignored as diffusers ignores them (it logs a warning). */
  ignoredKeys: string[];
}

const PREDICTION_TYPES: Record<string, Prediction> = { epsilon: 'epsilon', v_prediction: 'v', sample: 'sample' };

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

function resolveClass(name: unknown, where: string): DiffusersSchedulerName {
  const accepted = `${SUPPORTED_DIFFUSERS_SCHEDULERS.join(', ')} (or the same with a Flax prefix)`;
  if (name === undefined || name === null) {
    throw new Error(`${where} is missing: the config names no scheduler class; pass { as: one of ${accepted} }`);
  }
  const plain = typeof name === 'string' && name.startsWith('Flax') ? name.slice(4) : name;
  if (typeof plain !== 'string' || !Object.hasOwn(CLASSES, plain)) {
    throw new Error(`${where} must be one of ${accepted}; got ${show(name)}`);
  }
  return plain as DiffusersSchedulerName;
}

/**
 * A sampler, schedule and prediction type configured as a diffusers `scheduler_config.json`
 * describes them, read once (text or parsed). As diffusers' `from_config`: `Flax*` class names
 * read as their PyTorch twins, `options.as` builds another class from the same config, a class
 * reads only its own constructor's keys (others are listed in `ignoredKeys`), keys named in
 * `_use_default_values` and null values take the class's defaults. Values this package does not
 * implement throw an error naming the key and value rather than being silently ignored.
 */
export function fromDiffusersConfig(
  json: string | Record<string, unknown>,
  options: FromDiffusersConfigOptions = {},
): FromDiffusersConfigResult {
  const raw = parseDiffusersConfig(json, 'fromDiffusersConfig');
  const cls = options.as !== undefined ? resolveClass(options.as, 'as') : resolveClass(raw._class_name, '_class_name');
  const defaults: Defaults = CLASSES[cls];
  const usedDefaults = Array.isArray(raw._use_default_values) ? (raw._use_default_values as unknown[]) : [];
  const config: Record<string, unknown> = {};
  const ignoredKeys: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('_')) continue;
    if (!Object.hasOwn(defaults, key)) ignoredKeys.push(key);
    else if (!usedDefaults.includes(key) && value !== null && value !== undefined) config[key] = value;
  }
  const get = (key: string): unknown => (Object.hasOwn(config, key) ? config[key] : defaults[key]);
  const unsupported = (key: string, value: unknown, why = 'is not supported'): never => {
    throw new Error(`${cls}: ${key} = ${JSON.stringify(value)} ${why}`);
  };
  const bool = (key: string): boolean => {
    const v = get(key);
    if (typeof v !== 'boolean') throw new TypeError(`${key} must be true or false; got ${show(v)}`);
    return v;
  };
  const num = (key: string, test: (x: number) => boolean, what: string): number => {
    const v = get(key);
    if (typeof v !== 'number' || !test(v)) throw new RangeError(`${key} must be ${what}; got ${show(v)}`);
    return v;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T => {
    const v = get(key);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw new RangeError(`${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${show(v)}`);
    }
    return v as T;
  };

  for (const key of NOT_IMPLEMENTED) {
    if (Object.hasOwn(config, key) && config[key] !== defaults[key]) unsupported(key, config[key]);
  }

  const { schedule, scheduleConfig } = scheduleFromDiffusersConfig(config, {
    numTrainTimesteps: defaults.num_train_timesteps as number,
    betaStart: defaults.beta_start as number,
    betaEnd: defaults.beta_end as number,
  });

  const p = get('prediction_type');
  if (typeof p !== 'string' || !Object.hasOwn(PREDICTION_TYPES, p)) {
    throw new RangeError(`prediction_type must be one of ${Object.keys(PREDICTION_TYPES).map((k) => `'${k}'`).join(', ')}; got ${show(p)}`);
  }
  const prediction = PREDICTION_TYPES[p]!;
  const spacing = {
    timestepSpacing: oneOf('timestep_spacing', TIMESTEP_SPACINGS),
    stepsOffset: num('steps_offset', (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0'),
  };
  const has = (key: string) => Object.hasOwn(defaults, key);
  const threshold: X0Processor | undefined =
    has('thresholding') && bool('thresholding')
      ? dynamicThreshold({
          dynamicThresholdingRatio: num('dynamic_thresholding_ratio', (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
          sampleMaxValue: num('sample_max_value', (x) => x >= 1, 'a number >= 1'),
        })
      : undefined;
  const clipRange = () => num('clip_sample_range', (x) => x > 0, 'a number > 0');
  const clipOrThreshold = threshold ?? (has('clip_sample') && bool('clip_sample') ? clip(clipRange()) : undefined);
  const karras = () => bool('use_karras_sigmas');
  const finalSigmasType = () => oneOf('final_sigmas_type', ['zero', 'sigma_min'] as const);

  let sampler: Sampler;
  switch (cls) {
    case 'DDPMScheduler': {
      const v = oneOf('variance_type', ['fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', 'learned', 'learned_range'] as const);
      if (v !== 'fixed_small' && v !== 'fixed_large') unsupported('variance_type', v, "is not supported (use 'fixed_small' or 'fixed_large')");
      sampler = ddpm({ ...spacing, varianceType: v as 'fixed_small' | 'fixed_large', x0Processor: clipOrThreshold });
      break;
    }
    case 'DDIMScheduler':
      sampler = ddim({ ...spacing, eta: options.eta ?? 0, setAlphaToOne: bool('set_alpha_to_one'), x0Processor: clipOrThreshold });
      break;
    case 'PNDMScheduler':
      sampler = pndm({ ...spacing, skipPrkSteps: bool('skip_prk_steps'), setAlphaToOne: bool('set_alpha_to_one') });
      break;
    case 'EulerDiscreteScheduler':
      oneOf('timestep_type', ['discrete', 'continuous'] as const) === 'discrete' || unsupported('timestep_type', get('timestep_type'));
      oneOf('interpolation_type', ['linear', 'log_linear'] as const) === 'linear' || unsupported('interpolation_type', get('interpolation_type'));
      sampler = euler({ ...spacing, useKarrasSigmas: karras(), finalSigmasType: finalSigmasType() });
      break;
    case 'EulerAncestralDiscreteScheduler':
      sampler = eulerAncestral(spacing);
      break;
    case 'HeunDiscreteScheduler':
      sampler = heun({ ...spacing, useKarrasSigmas: karras(), clipSample: bool('clip_sample'), clipSampleRange: clipRange() });
      break;
    case 'LMSDiscreteScheduler':
      sampler = lms({ ...spacing, useKarrasSigmas: karras() });
      break;
    case 'DPMSolverMultistepScheduler': {
      const algorithm = oneOf('algorithm_type', ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++', 'deis'] as const);
      if (algorithm !== 'dpmsolver++' && algorithm !== 'deis') unsupported('algorithm_type', algorithm, "is not supported (only 'dpmsolver++')");
      const order = num('solver_order', (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
      if (order !== 1 && order !== 2) unsupported('solver_order', order, 'is not supported (1 or 2)');
      const variance = get('variance_type');
      if (variance === 'learned' || variance === 'learned_range') unsupported('variance_type', variance);
      const lambdaMin = get('lambda_min_clipped');
      if (lambdaMin !== -Infinity) unsupported('lambda_min_clipped', lambdaMin);
      // diffusers reads the other solvers' names as 'midpoint'.
      const solverType = oneOf('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'] as const);
      sampler = dpmSolverPlusPlus2M({
        ...spacing,
        solverOrder: order as 1 | 2,
        solverType: solverType === 'heun' ? 'heun' : 'midpoint',
        lowerOrderFinal: bool('lower_order_final'),
        eulerAtFinal: bool('euler_at_final'),
        useKarrasSigmas: karras(),
        finalSigmasType: finalSigmasType(),
        roundKarrasTimesteps: scheduleConfig.betaSchedule !== 'squaredcos_cap_v2',
        x0Processor: threshold,
      });
      break;
    }
    case 'UniPCMultistepScheduler': {
      const order = num('solver_order', (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
      if (order > 3) unsupported('solver_order', order, 'is not supported (1, 2 or 3)');
      // diffusers reads the DPM-Solver names as 'bh2'.
      const solverType = oneOf('solver_type', ['bh1', 'bh2', 'midpoint', 'heun', 'logrho'] as const);
      const disable = get('disable_corrector');
      if (!Array.isArray(disable) || !disable.every((k) => Number.isInteger(k))) {
        throw new TypeError(`disable_corrector must be a list of step indices; got ${show(disable)}`);
      }
      sampler = uniPC({
        ...spacing,
        solverOrder: order as 1 | 2 | 3,
        solverType: solverType === 'bh1' ? 'bh1' : 'bh2',
        predictX0: bool('predict_x0'),
        lowerOrderFinal: bool('lower_order_final'),
        disableCorrector: disable as number[],
        useKarrasSigmas: karras(),
        finalSigmasType: finalSigmasType(),
        x0Processor: threshold,
      });
      break;
    }
  }
  return { sampler, schedule, prediction, className: cls, scheduleConfig, ignoredKeys };
}
