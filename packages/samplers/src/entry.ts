import type { Prediction, ScheduleConfig } from '@tfjs-diffusion/schedules';
import type { FinalSigmas, SpacingOptions } from './grids.js';
import type { Sampler, X0Processor } from './types.js';

/*
 * What the registry knows of one sampler: its names, its factory, its options
 * with their defaults, and the diffusers scheduler classes it reads. Each
 * sampler's file declares its entry; registry.ts lists them.
 */

/** One option of a sampler factory: its default (undefined: none) and what it does. */
export interface SamplerOption {
  readonly default: unknown;
  readonly doc: string;
}

/** The keys of a diffusers config as one class reads them (its own defaults filled in), with the checks every class shares. */
export interface DiffusersConfigReader {
  /** The class being built (without a `Flax` prefix). */
  readonly className: string;
  readonly scheduleConfig: ScheduleConfig;
  /** `fromDiffusersConfig`'s `eta` option (a `step` argument in diffusers). */
  readonly eta: number | undefined;
  /** `fromDiffusersConfig`'s `mu` (or the one its `imageSeqLen` gives); throws naming `mu` when neither was passed. */
  mu(): number;
  get(key: string): unknown;
  bool(key: string): boolean;
  num(key: string, test: (x: number) => boolean, what: string): number;
  oneOf<T extends string>(key: string, allowed: readonly T[]): T;
  /** Throws naming the class, key and value. */
  unsupported(key: string, value: unknown, why?: string): never;
  /** `timestep_spacing` and `steps_offset`. */
  spacing(): Required<SpacingOptions>;
  /** `dynamicThreshold` when the class has `thresholding` and it is on. */
  threshold(): X0Processor | undefined;
  /** The threshold, else `clip(clip_sample_range)` when the class has `clip_sample` and it is on. */
  clipOrThreshold(): X0Processor | undefined;
  clipRange(): number;
  /** `use_karras_sigmas` and `use_exponential_sigmas` (at most one of them true). */
  sigmaPlan(): { useKarrasSigmas: boolean; useExponentialSigmas: boolean };
  finalSigmasType(): FinalSigmas;
}

/** One diffusers scheduler class a sampler reads. */
export interface DiffusersClass {
  /** Every constructor argument with its default, as the class's scheduling_*.py declares it: a class reads exactly these keys. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Keys of `defaults` whose non-default values this package does not implement for the class. */
  readonly notImplemented?: readonly string[];
  /** Keys of the config reader's shared not-implemented list that this class does implement. */
  readonly implements?: readonly string[];
  /** The prediction of the class's models when the class has no `prediction_type` (flow matching: 'flow'). */
  readonly prediction?: Prediction;
  build(config: DiffusersConfigReader): Sampler;
}

export interface SamplerEntry<O = never, N extends string = string, C extends string = string> {
  /** Short name for flags, config files and menus ('euler-a'). */
  readonly name: N;
  /** The factory's export name and `describeSampler`'s `factory` ('eulerAncestral'). */
  readonly factory: string;
  /** Human-readable name ('Euler ancestral'). */
  readonly label: string;
  readonly create: (options?: O) => Sampler;
  /** The factory's options (besides `x0Processor`) with their defaults: every key of its options type, no other. */
  readonly options: Readonly<[O] extends [never] ? Record<string, SamplerOption> : Record<Exclude<keyof O & string, 'x0Processor'>, SamplerOption>>;
  /**
   * Options that make a run of this sampler like every other's: any step count, the last step
   * landing on the clean sample (PNDM: `skipPrkSteps`, `setAlphaToOne`). Empty for most.
   */
  readonly uniformOptions?: Readonly<Record<string, unknown>>;
  /** The diffusers scheduler classes this sampler reads (`fromDiffusersConfig`). */
  readonly diffusers: Readonly<Record<C, DiffusersClass>>;
}

/** The keys a sampler's factory accepts: its entry's options and `x0Processor` (what the factory checks an options object against). */
export function factoryOptionKeys(entry: { readonly options: object }): string[] {
  return [...Object.keys(entry.options), 'x0Processor'];
}

/** Declares a registry entry, keeping its name and class names as literal types. */
export function defineSampler<O, const N extends string, const C extends string>(entry: SamplerEntry<O, N, C>): SamplerEntry<O, N, C> {
  return entry;
}

/** The options of the timestep spacing every grid takes, with this sampler's default spacing. */
export function spacingOptions(spacing: 'linspace' | 'leading' | 'trailing'): Record<'timestepSpacing' | 'stepsOffset', SamplerOption> {
  return {
    timestepSpacing: { default: spacing, doc: "How inference timesteps spread over training time: 'linspace', 'leading' or 'trailing' (diffusers' `timestep_spacing`)." },
    stepsOffset: { default: 0, doc: "Added to 'leading' timesteps (diffusers' `steps_offset`)." },
  };
}

/** The σ-plan options of the samplers that take them. */
export const SIGMA_PLAN_OPTIONS = {
  useKarrasSigmas: { default: false, doc: 'Karras et al. 2022 noise levels (ρ = 7) (diffusers\' `use_karras_sigmas`).' },
  useExponentialSigmas: { default: false, doc: "Noise levels evenly spaced in log σ (diffusers' `use_exponential_sigmas`)." },
} satisfies Record<string, SamplerOption>;

// Constructor arguments several diffusers classes share, with diffusers' defaults.
export const DIFFUSERS_SCHEDULE = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null };
export const DIFFUSERS_THRESHOLD = { thresholding: false, dynamic_thresholding_ratio: 0.995, sample_max_value: 1 };
export const DIFFUSERS_CLIP = { clip_sample: true, clip_sample_range: 1 };
export const DIFFUSERS_SIGMA_KINDS = { use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false };

/** Calls a factory with options read at run time (JSON, flags); the cast is sound because every factory checks its options' keys and values. */
export function callWithUncheckedOptions<R>(factory: (options: never) => R, options: unknown): R {
  return factory(options as never);
}
