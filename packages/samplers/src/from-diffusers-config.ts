import {
  calculateShift,
  checkOptions,
  optionKeys,
  parseDiffusersConfig,
  scheduleFromDiffusersConfig,
  TIMESTEP_SPACINGS,
  type NoiseSchedule,
  type Prediction,
  type ScheduleConfig,
} from '@tfjs-diffusion/schedules';
import { clip } from './clip.js';
import { dynamicThreshold } from './dynamic-threshold.js';
import type { DiffusersClass, DiffusersConfigReader, SamplerEntry } from './entry.js';
import { SAMPLER_REGISTRY, type DiffusersSchedulerName } from './registry.js';
import type { Sampler } from './types.js';

export type { DiffusersSchedulerName } from './registry.js';

// Each class's constructor arguments with their defaults live in its sampler's registry entry:
// diffusers passes a class exactly these keys of a config and ignores the others.
const CLASSES = new Map<string, DiffusersClass>(
  (SAMPLER_REGISTRY as readonly SamplerEntry[]).flatMap((e) => Object.entries<DiffusersClass>(e.diffusers)),
);

/** The diffusers scheduler classes `fromDiffusersConfig` builds (their `Flax*` twins read as them). */
export const SUPPORTED_DIFFUSERS_SCHEDULERS = [...CLASSES.keys()] as DiffusersSchedulerName[];

// Keys a class accepts whose non-default values this package does not implement (besides the class's own list).
const NOT_IMPLEMENTED = [
  'use_beta_sigmas', 'use_lu_lambdas', 'use_flow_sigmas', 'use_dynamic_shifting',
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
  /**
   * The `mu` diffusers' pipelines pass to `set_timesteps`, needed with `use_dynamic_shifting`
   * (`calculateShift` computes it from the image sequence length).
   */
  mu?: number;
  /** Instead of `mu`: the image sequence length (latent h·w / patch²), mu computed by `calculateShift` with the config's base/max values. */
  imageSeqLen?: number;
}

const FROM_DIFFUSERS_CONFIG_KEYS = optionKeys<FromDiffusersConfigOptions>()(['as', 'eta', 'mu', 'imageSeqLen']);

export interface FromDiffusersConfigResult {
  sampler: Sampler;
  schedule: NoiseSchedule;
  prediction: Prediction;
  /** The class built (a `Flax*` name reads as the class without the prefix). */
  className: DiffusersSchedulerName;
  /** The schedule part, camelCased, as passed to `makeSchedule` (a flow-matching class's schedule carries only numTrainTimesteps). */
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
  if (typeof plain !== 'string' || !CLASSES.has(plain)) {
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
  checkOptions('fromDiffusersConfig', options, FROM_DIFFUSERS_CONFIG_KEYS);
  const raw = parseDiffusersConfig(json, 'fromDiffusersConfig');
  const cls = options.as !== undefined ? resolveClass(options.as, 'as') : resolveClass(raw._class_name, '_class_name');
  const entry = CLASSES.get(cls)!;
  const defaults = entry.defaults;
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

  if (options.mu !== undefined && options.imageSeqLen !== undefined) throw new Error('fromDiffusersConfig: pass mu or imageSeqLen, not both');
  for (const key of [...NOT_IMPLEMENTED.filter((k) => !(entry.implements ?? []).includes(k)), ...(entry.notImplemented ?? [])]) {
    if (Object.hasOwn(config, key) && config[key] !== defaults[key]) unsupported(key, config[key]);
  }

  const scheduleDefaults = { numTrainTimesteps: defaults.num_train_timesteps, betaStart: defaults.beta_start, betaEnd: defaults.beta_end };
  const { schedule, scheduleConfig } = scheduleFromDiffusersConfig(
    config,
    Object.fromEntries(Object.entries(scheduleDefaults).filter(([, v]) => v !== undefined)) as Record<string, number>,
  );

  const p = entry.prediction ? 'fixed' : get('prediction_type');
  if (!entry.prediction && (typeof p !== 'string' || !Object.hasOwn(PREDICTION_TYPES, p))) {
    throw new RangeError(`prediction_type must be one of ${Object.keys(PREDICTION_TYPES).map((k) => `'${k}'`).join(', ')}; got ${show(p)}`);
  }
  const prediction = entry.prediction ?? PREDICTION_TYPES[p as string]!;
  const has = (key: string) => Object.hasOwn(defaults, key);
  const threshold = () =>
    has('thresholding') && bool('thresholding')
      ? dynamicThreshold({
          dynamicThresholdingRatio: num('dynamic_thresholding_ratio', (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
          sampleMaxValue: num('sample_max_value', (x) => x >= 1, 'a number >= 1'),
        })
      : undefined;
  const clipRange = () => num('clip_sample_range', (x) => x > 0, 'a number > 0');
  const reader: DiffusersConfigReader = {
    className: cls,
    scheduleConfig,
    eta: options.eta,
    mu() {
      if (options.mu !== undefined) return options.mu;
      if (options.imageSeqLen !== undefined) {
        const n = (key: string) => num(key, Number.isFinite, 'a finite number');
        return calculateShift(options.imageSeqLen, {
          baseImageSeqLen: n('base_image_seq_len'), maxImageSeqLen: n('max_image_seq_len'), baseShift: n('base_shift'), maxShift: n('max_shift'),
        });
      }
      throw new Error(
        `${cls}: use_dynamic_shifting is true, so fromDiffusersConfig needs { mu } (what diffusers' pipelines pass to set_timesteps; calculateShift computes it) or { imageSeqLen }`,
      );
    },
    get,
    bool,
    num,
    oneOf,
    unsupported,
    spacing: () => ({
      timestepSpacing: oneOf('timestep_spacing', TIMESTEP_SPACINGS),
      stepsOffset: num('steps_offset', (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0'),
    }),
    threshold,
    clipOrThreshold: () => threshold() ?? (has('clip_sample') && bool('clip_sample') ? clip(clipRange()) : undefined),
    clipRange,
    sigmaPlan() {
      const plan = {
        useKarrasSigmas: has('use_karras_sigmas') && bool('use_karras_sigmas'),
        useExponentialSigmas: has('use_exponential_sigmas') && bool('use_exponential_sigmas'),
      };
      if (plan.useKarrasSigmas && plan.useExponentialSigmas) unsupported('use_exponential_sigmas', true, 'together with use_karras_sigmas = true (diffusers allows one of them)');
      return plan;
    },
    finalSigmasType: () => oneOf('final_sigmas_type', ['zero', 'sigma_min'] as const),
  };
  const sampler: Sampler = entry.build(reader);
  return { sampler, schedule, prediction, className: cls, scheduleConfig, ignoredKeys };
}
