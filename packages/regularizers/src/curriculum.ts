import { checkOptions, optionKeys, type Rng } from '@tfjs-diffusion/schedules';

export type TimestepSamplerConfig =
  | { kind: 'uniform'; numTrainTimesteps: number }
  /**
   * Easy to hard: large t (mostly noise, an easy denoising task) first. At
   * step 0, t is drawn from the top `startFraction` of [0, T); the lower end
   * moves linearly to 0 by `rampSteps`, after which sampling is uniform
   * (after Kim et al. 2024, "Denoising Task Difficulty-based Curriculum").
   */
  | { kind: 'curriculum'; numTrainTimesteps: number; startFraction?: number; rampSteps: number };

export interface CurriculumRangeOptions {
  /** Lets the curriculum sampler's own config be passed as it is. */
  kind?: 'curriculum';
  numTrainTimesteps: number;
  startFraction?: number;
  rampSteps: number;
}

export interface CurriculumSubsetOptions {
  startFraction?: number;
  rampSteps: number;
}

const RANGE_KEYS = optionKeys<CurriculumRangeOptions>()(['kind', 'numTrainTimesteps', 'startFraction', 'rampSteps']);
const SUBSET_KEYS = optionKeys<CurriculumSubsetOptions>()(['startFraction', 'rampSteps']);
const SAMPLER_KEYS = {
  uniform: optionKeys<Extract<TimestepSamplerConfig, { kind: 'uniform' }>>()(['kind', 'numTrainTimesteps']),
  curriculum: optionKeys<Extract<TimestepSamplerConfig, { kind: 'curriculum' }>>()(['kind', 'numTrainTimesteps', 'startFraction', 'rampSteps']),
};

/** A timestep sampler: integer t for a batch at a training step. */
export type TimestepSampler = (step: number, batchSize: number, rng: Rng) => Int32Array;

/** The [lo, hi) range of timesteps a curriculum sampler draws from at `step`. */
export function curriculumRange(step: number, opts: CurriculumRangeOptions): [number, number] {
  checkOptions('curriculumRange', opts, RANGE_KEYS);
  const T = opts.numTrainTimesteps;
  const f0 = opts.startFraction ?? 0.2;
  const frac = f0 + (1 - f0) * Math.min(1, Math.max(0, step / opts.rampSteps));
  const lo = Math.max(0, Math.min(T - 1, Math.floor(T * (1 - frac))));
  return [lo, T];
}

export function timestepSampler(config: TimestepSamplerConfig): TimestepSampler {
  const kind = (config as { kind?: unknown } | undefined)?.kind;
  if (kind === 'uniform' || kind === 'curriculum') checkOptions(`timestepSampler (kind '${kind}')`, config, SAMPLER_KEYS[kind]);
  const T = config.numTrainTimesteps;
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`timestepSampler: numTrainTimesteps must be a positive integer, got ${T}`);
  if (config.kind === 'uniform') {
    return (_step, n, rng) => {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = rng.nextInt(T);
      return out;
    };
  }
  if (config.kind === 'curriculum') {
    const f0 = config.startFraction ?? 0.2;
    if (!(f0 > 0 && f0 <= 1)) throw new RangeError(`timestepSampler: startFraction must be in (0, 1], got ${f0}`);
    if (!(config.rampSteps > 0)) throw new RangeError(`timestepSampler: rampSteps must be > 0, got ${config.rampSteps}`);
    const range = { numTrainTimesteps: T, startFraction: f0, rampSteps: config.rampSteps };
    return (step, n, rng) => {
      const [lo, hi] = curriculumRange(step, range);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = lo + rng.nextInt(hi - lo);
      return out;
    };
  }
  throw new RangeError(`timestepSampler: kind must be one of 'uniform', 'curriculum'; got '${(config as { kind: string }).kind}'`);
}

/** Indices of the examples sorted by difficulty score, easiest (lowest) first; ties keep their order. */
export function difficultyOrder(scores: ArrayLike<number>): Int32Array {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return Int32Array.from(idx);
}

/**
 * The examples a data curriculum admits at `step`: the easiest
 * `startFraction` at step 0, growing linearly to all of them at `rampSteps`.
 */
export function curriculumSubset(
  scores: ArrayLike<number>,
  step: number,
  opts: CurriculumSubsetOptions,
): Int32Array {
  checkOptions('curriculumSubset', opts, SUBSET_KEYS);
  const f0 = opts.startFraction ?? 0.2;
  if (!(f0 > 0 && f0 <= 1)) throw new RangeError(`curriculumSubset: startFraction must be in (0, 1], got ${f0}`);
  if (!(opts.rampSteps > 0)) throw new RangeError(`curriculumSubset: rampSteps must be > 0, got ${opts.rampSteps}`);
  const frac = f0 + (1 - f0) * Math.min(1, Math.max(0, step / opts.rampSteps));
  const order = difficultyOrder(scores);
  return order.slice(0, Math.max(1, Math.ceil(frac * order.length)));
}
