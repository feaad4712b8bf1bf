import { checkOneOf } from './check.js';
import { checkOptions } from './options.js';
import { BETA_SCHEDULES, MAX_TRAIN_TIMESTEPS, SCHEDULE_CONFIG_KEYS, makeSchedule, type NoiseSchedule, type ScheduleConfig } from './schedule.js';

export interface ScheduleFromDiffusersConfigResult {
  schedule: NoiseSchedule;
  /** The schedule part of the config, camelCased, as passed to `makeSchedule`. */
  scheduleConfig: ScheduleConfig;
}

/** The schedule defaults of diffusers' DDPMScheduler/DDIMScheduler constructors. */
export const DIFFUSERS_SCHEDULE_DEFAULTS: Readonly<Required<Omit<ScheduleConfig, 'trainedBetas'>>> = Object.freeze({
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  rescaleBetasZeroSnr: false,
});

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/** Parses a diffusers config (text or object) into a plain object, with errors that say what was expected. */
export function parseDiffusersConfig(json: string | Record<string, unknown>, where = 'scheduler_config.json'): Record<string, unknown> {
  let config: unknown = json;
  if (typeof json === 'string') {
    try {
      config = JSON.parse(json);
    } catch (e) {
      throw new SyntaxError(`${where}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`${where}: expected a JSON object; got ${describe(config)}`);
  }
  return config as Record<string, unknown>;
}

/**
 * The noise schedule of a diffusers `scheduler_config.json` (as text or parsed):
 * `num_train_timesteps`, `beta_start`, `beta_end`, `beta_schedule`, `trained_betas`,
 * `rescale_betas_zero_snr`. Every other key is left alone (the samplers package's
 * `fromDiffusersConfig` reads the sampler part); missing or null keys take `defaults`
 * (diffusers' DDPM/DDIM defaults unless given, since some classes default differently);
 * bad values throw an error naming the key.
 */
export function scheduleFromDiffusersConfig(
  json: string | Record<string, unknown>,
  defaults: Partial<Omit<ScheduleConfig, 'trainedBetas'>> = {},
): ScheduleFromDiffusersConfigResult {
  checkOptions('scheduleFromDiffusersConfig', defaults, SCHEDULE_CONFIG_KEYS.filter((k) => k !== 'trainedBetas'), 'defaults');
  const c = parseDiffusersConfig(json);
  const d = { ...DIFFUSERS_SCHEDULE_DEFAULTS, ...defaults };
  // null means "not set" in diffusers' JSON.
  const has = (key: string): boolean => c[key] !== undefined && c[key] !== null;
  const num = (key: string, fallback: number): number => {
    if (!has(key)) return fallback;
    const v = c[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${key} must be a finite number; got ${describe(v)}`);
    return v;
  };
  let numTrainTimesteps = d.numTrainTimesteps;
  if (has('num_train_timesteps')) {
    const v = c.num_train_timesteps;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > MAX_TRAIN_TIMESTEPS) throw new RangeError(`num_train_timesteps must be an integer in [2, ${MAX_TRAIN_TIMESTEPS}]; got ${describe(v)}`);
    numTrainTimesteps = v;
  }
  let rescaleBetasZeroSnr = d.rescaleBetasZeroSnr;
  if (has('rescale_betas_zero_snr')) {
    const v = c.rescale_betas_zero_snr;
    if (typeof v !== 'boolean') throw new TypeError(`rescale_betas_zero_snr must be true or false; got ${describe(v)}`);
    rescaleBetasZeroSnr = v;
  }
  const scheduleConfig: ScheduleConfig = {
    numTrainTimesteps,
    betaStart: num('beta_start', d.betaStart),
    betaEnd: num('beta_end', d.betaEnd),
    betaSchedule: has('beta_schedule') ? checkOneOf('beta_schedule', c.beta_schedule, BETA_SCHEDULES) : d.betaSchedule,
    rescaleBetasZeroSnr,
  };
  if (has('trained_betas')) {
    const tb = c.trained_betas;
    if (!Array.isArray(tb) || !tb.every((x) => typeof x === 'number')) {
      throw new TypeError(`trained_betas must be an array of numbers or null; got ${describe(tb)}`);
    }
    if (has('num_train_timesteps') && tb.length !== numTrainTimesteps) {
      throw new RangeError(`trained_betas must have num_train_timesteps (${numTrainTimesteps}) entries; got ${tb.length}`);
    }
    scheduleConfig.trainedBetas = tb as number[];
    delete scheduleConfig.numTrainTimesteps;
  }
  return { schedule: makeSchedule(scheduleConfig), scheduleConfig };
}
