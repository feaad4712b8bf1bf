import { checkOneOf, quote } from './check.js';
import type { Prediction } from './prediction.js';
import { BETA_SCHEDULES, makeSchedule, type BetaSchedule, type NoiseSchedule, type ScheduleConfig } from './schedule.js';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from './timesteps.js';


export const VARIANCE_TYPES = [
  'fixed_small',
  'fixed_small_log',
  'fixed_large',
  'fixed_large_log',
  'learned',
  'learned_range',
] as const;
export type VarianceType = (typeof VARIANCE_TYPES)[number];
export const ALGORITHM_TYPES = ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++', 'deis'] as const;
export type AlgorithmType = (typeof ALGORITHM_TYPES)[number];
export const TIMESTEP_TYPES = ['discrete', 'continuous'] as const;
export type TimestepType = (typeof TIMESTEP_TYPES)[number];
export const FINAL_SIGMAS_TYPES = ['zero', 'sigma_min'] as const;
export type FinalSigmasType = (typeof FINAL_SIGMAS_TYPES)[number];
export const INTERPOLATION_TYPES = ['linear', 'log_linear'] as const;
export type InterpolationType = (typeof INTERPOLATION_TYPES)[number];

/** The sampling options a diffusers scheduler config carries, camelCased, every one filled in. */
export interface DiffusersSamplingOptions {
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  /** `prediction_type`: 'epsilon' | 'v_prediction' | 'sample' → 'epsilon' | 'v' | 'sample'. */
  predictionType: Prediction;
  clipSample: boolean;
  clipSampleRange: number;
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
  setAlphaToOne: boolean;
  useKarrasSigmas: boolean;
  /** `null` in a config (DPM-Solver's "no learned variance") reads as 'fixed_small'. */
  varianceType: VarianceType;
  timestepType: TimestepType;
  algorithmType: AlgorithmType;
  solverOrder: number;
  lowerOrderFinal: boolean;
  finalSigmasType: FinalSigmasType;
  interpolationType: InterpolationType;
}

export interface DiffusersConfigResult {
  schedule: NoiseSchedule;
  /** `_class_name`, e.g. 'DDIMScheduler', or null when absent. */
  className: string | null;
  options: DiffusersSamplingOptions;
  /** The schedule part of the config, camelCased, as passed to `makeSchedule`. */
  scheduleConfig: ScheduleConfig;
}

/** Defaults of diffusers' DDIMScheduler/DDPMScheduler constructors (and of the schedulers that own the other keys). */
export const DIFFUSERS_DEFAULTS: Readonly<DiffusersSamplingOptions> & {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  rescaleBetasZeroSnr: boolean;
} = Object.freeze({
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  rescaleBetasZeroSnr: false,
  timestepSpacing: 'leading',
  stepsOffset: 0,
  predictionType: 'epsilon',
  clipSample: true,
  clipSampleRange: 1,
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  sampleMaxValue: 1,
  setAlphaToOne: true,
  useKarrasSigmas: false,
  varianceType: 'fixed_small',
  timestepType: 'discrete',
  algorithmType: 'dpmsolver++',
  solverOrder: 2,
  lowerOrderFinal: true,
  finalSigmasType: 'zero',
  interpolationType: 'linear',
});

// Schedulers whose constructors default differently from DDIM/DDPM: a config
// written by an older diffusers omits keys, and then the class's default applies.
const SIGMA_SCHEDULER = { timestepSpacing: 'linspace', clipSample: false } as const;
const CLASS_DEFAULTS: Record<string, Partial<typeof DIFFUSERS_DEFAULTS>> = {
  EulerDiscreteScheduler: SIGMA_SCHEDULER,
  EulerAncestralDiscreteScheduler: SIGMA_SCHEDULER,
  HeunDiscreteScheduler: SIGMA_SCHEDULER,
  KDPM2DiscreteScheduler: SIGMA_SCHEDULER,
  KDPM2AncestralDiscreteScheduler: SIGMA_SCHEDULER,
  LMSDiscreteScheduler: SIGMA_SCHEDULER,
  DPMSolverMultistepScheduler: SIGMA_SCHEDULER,
  DPMSolverSinglestepScheduler: SIGMA_SCHEDULER,
  DEISMultistepScheduler: { ...SIGMA_SCHEDULER, algorithmType: 'deis' },
  UniPCMultistepScheduler: SIGMA_SCHEDULER,
  PNDMScheduler: { clipSample: false },
  LCMScheduler: { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', clipSample: false },
};

const PREDICTION_TYPES = { epsilon: 'epsilon', v_prediction: 'v', sample: 'sample' } as const;

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/**
 * Read a diffusers `scheduler_config.json` (as text or parsed) into a
 * schedule and typed sampling options. Unknown keys are ignored; missing keys
 * take diffusers' defaults; bad values throw an error naming the key.
 */
export function fromDiffusersConfig(json: string | Record<string, unknown>): DiffusersConfigResult {
  let config: unknown = json;
  if (typeof json === 'string') {
    try {
      config = JSON.parse(json);
    } catch (e) {
      throw new SyntaxError(`fromDiffusersConfig: not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`fromDiffusersConfig: expected a JSON object (scheduler_config.json); got ${describe(config)}`);
  }
  const c = config as Record<string, unknown>;
  const className = typeof c._class_name === 'string' ? c._class_name : null;
  const defaults = { ...DIFFUSERS_DEFAULTS, ...(className ? CLASS_DEFAULTS[className] : undefined) };
  // null means "not set" in diffusers' JSON.
  const has = (key: string): boolean => c[key] !== undefined && c[key] !== null;

  const num = (key: string, fallback: number, test: (x: number) => boolean = () => true, what = 'a finite number'): number => {
    if (!has(key)) return fallback;
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new RangeError(`${key} must be ${what}; got ${describe(v)}`);
    return v;
  };
  const int = (key: string, fallback: number, min: number): number =>
    num(key, fallback, (x) => Number.isInteger(x) && x >= min, `an integer >= ${min}`);
  const bool = (key: string, fallback: boolean): boolean => {
    if (!has(key)) return fallback;
    const v = c[key];
    if (typeof v !== 'boolean') throw new TypeError(`${key} must be true or false; got ${describe(v)}`);
    return v;
  };
  const oneOf = <T extends string>(key: string, fallback: T, allowed: readonly T[]): T =>
    has(key) ? checkOneOf(key, c[key], allowed) : fallback;

  const scheduleConfig: ScheduleConfig = {
    numTrainTimesteps: int('num_train_timesteps', defaults.numTrainTimesteps, 2),
    betaStart: num('beta_start', defaults.betaStart),
    betaEnd: num('beta_end', defaults.betaEnd),
    betaSchedule: oneOf('beta_schedule', defaults.betaSchedule, BETA_SCHEDULES),
    rescaleBetasZeroSnr: bool('rescale_betas_zero_snr', defaults.rescaleBetasZeroSnr),
  };
  if (has('trained_betas')) {
    const tb = c.trained_betas;
    if (!Array.isArray(tb) || !tb.every((x) => typeof x === 'number')) {
      throw new TypeError(`trained_betas must be an array of numbers or null; got ${describe(tb)}`);
    }
    if (has('num_train_timesteps') && tb.length !== scheduleConfig.numTrainTimesteps) {
      throw new RangeError(
        `trained_betas must have num_train_timesteps (${scheduleConfig.numTrainTimesteps}) entries; got ${tb.length}`,
      );
    }
    scheduleConfig.trainedBetas = tb as number[];
    delete scheduleConfig.numTrainTimesteps;
  }

  let predictionType: Prediction = defaults.predictionType;
  if (has('prediction_type')) {
    const p = c.prediction_type;
    if (typeof p !== 'string' || !Object.hasOwn(PREDICTION_TYPES, p)) {
      throw new RangeError(`prediction_type must be one of ${quote(Object.keys(PREDICTION_TYPES))}; got ${describe(p)}`);
    }
    predictionType = PREDICTION_TYPES[p as keyof typeof PREDICTION_TYPES];
  }

  const options: DiffusersSamplingOptions = {
    timestepSpacing: oneOf('timestep_spacing', defaults.timestepSpacing, TIMESTEP_SPACINGS),
    stepsOffset: int('steps_offset', defaults.stepsOffset, 0),
    predictionType,
    clipSample: bool('clip_sample', defaults.clipSample),
    clipSampleRange: num('clip_sample_range', defaults.clipSampleRange, (x) => x > 0, 'a number > 0'),
    thresholding: bool('thresholding', defaults.thresholding),
    dynamicThresholdingRatio: num(
      'dynamic_thresholding_ratio',
      defaults.dynamicThresholdingRatio,
      (x) => x > 0 && x <= 1,
      'a number in (0, 1]',
    ),
    sampleMaxValue: num('sample_max_value', defaults.sampleMaxValue, (x) => x > 0, 'a number > 0'),
    setAlphaToOne: bool('set_alpha_to_one', defaults.setAlphaToOne),
    useKarrasSigmas: bool('use_karras_sigmas', defaults.useKarrasSigmas),
    varianceType: oneOf('variance_type', defaults.varianceType, VARIANCE_TYPES),
    timestepType: oneOf('timestep_type', defaults.timestepType, TIMESTEP_TYPES),
    algorithmType: oneOf('algorithm_type', defaults.algorithmType, ALGORITHM_TYPES),
    solverOrder: num('solver_order', defaults.solverOrder, (x) => Number.isInteger(x) && x >= 1 && x <= 3, 'one of 1, 2, 3'),
    lowerOrderFinal: bool('lower_order_final', defaults.lowerOrderFinal),
    finalSigmasType: oneOf('final_sigmas_type', defaults.finalSigmasType, FINAL_SIGMAS_TYPES),
    interpolationType: oneOf('interpolation_type', defaults.interpolationType, INTERPOLATION_TYPES),
  };

  return { schedule: makeSchedule(scheduleConfig), className, options, scheduleConfig };
}
