import { checkBoolean, checkFinite, checkInteger, checkOneOf } from './check.js';
import { checkOptions, optionKeys } from './options.js';

/** A discrete noise schedule over `numTrainTimesteps` training steps, in float64. */
export interface NoiseSchedule {
  numTrainTimesteps: number;
  betas: Float64Array;
  alphas: Float64Array;
  /** ᾱ_t = ∏_{s≤t} (1 − β_s). */
  alphasCumprod: Float64Array;
}

export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'] as const;
export type BetaSchedule = (typeof BETA_SCHEDULES)[number];

export interface ScheduleConfig {
  /** Number of training timesteps T (default 1000). */
  numTrainTimesteps?: number;
  /** First β for `linear`, `scaled_linear` and `sigmoid` (default 0.0001). */
  betaStart?: number;
  /** Last β for `linear`, `scaled_linear` and `sigmoid` (default 0.02). */
  betaEnd?: number;
  /** How β is spread over t (default `'linear'`). Ignored when `trainedBetas` is given. */
  betaSchedule?: BetaSchedule;
  /** Explicit betas; their length must equal `numTrainTimesteps` when that is given too. */
  trainedBetas?: ArrayLike<number> | null;
  /** Rescale to zero terminal SNR (Lin et al. 2023, Algorithm 1). */
  rescaleBetasZeroSnr?: boolean;
}

export const SCHEDULE_CONFIG_KEYS = optionKeys<ScheduleConfig>()([
  'numTrainTimesteps',
  'betaStart',
  'betaEnd',
  'betaSchedule',
  'trainedBetas',
  'rescaleBetasZeroSnr',
]);

/** `n` evenly spaced numbers from a to b inclusive, computed as numpy/torch do (start + i·step, last = stop). */
export function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  out[n - 1] = b;
  return out;
}

/**
 * The cosine schedule of Nichol & Dhariwal 2021 (eq. 17), discretised as
 * diffusers' `betas_for_alpha_bar`: β_i = min(1 − f((i+1)/T)/f(i/T), maxBeta)
 * with f(t) = cos²((t + s)/(1 + s) · π/2), s = 0.008.
 */
export function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999, s = 0.008): Float64Array {
  const f = (t: number): number => Math.cos(((t + s) / (1 + s)) * Math.PI / 2) ** 2;
  const betas = new Float64Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    betas[i] = Math.min(1 - f(t2) / f(t1), maxBeta);
  }
  return betas;
}

/**
 * Zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules and
 * Sample Steps are Flawed", Algorithm 1): shift √ᾱ so its last value is 0 and
 * scale it so its first value is unchanged, then recover the betas.
 * The last β becomes exactly 1.
 */
export function rescaleZeroTerminalSnr(betas: ArrayLike<number>): Float64Array {
  const n = betas.length;
  if (n < 2) throw new RangeError(`rescaleZeroTerminalSnr: betas must have at least 2 entries; got ${n}`);
  const sqrtAbar = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    prod *= 1 - betas[i]!;
    sqrtAbar[i] = Math.sqrt(prod);
  }
  const first = sqrtAbar[0]!;
  const last = sqrtAbar[n - 1]!;
  const scale = first / (first - last);
  const abar = new Float64Array(n);
  for (let i = 0; i < n; i++) abar[i] = ((sqrtAbar[i]! - last) * scale) ** 2;
  abar[0] = first * first; // exact, so ᾱ_0 is kept to the last bit
  abar[n - 1] = 0;
  const out = new Float64Array(n);
  out[0] = 1 - abar[0]!;
  for (let i = 1; i < n; i++) out[i] = 1 - abar[i]! / abar[i - 1]!;
  return out;
}

function checkBetas(betas: Float64Array, source: string, allowOneAtEnd: boolean): void {
  for (let i = 0; i < betas.length; i++) {
    const b = betas[i]!;
    if (!Number.isFinite(b)) throw new RangeError(`${source}[${i}] must be a finite number; got ${b}`);
    const okOne = b === 1 && allowOneAtEnd && i === betas.length - 1;
    if (!(b > 0 && (b < 1 || okOne))) {
      throw new RangeError(
        `${source}[${i}] must be in (0, 1)` +
          (allowOneAtEnd ? ' (1 is accepted only as the last beta, after zero-SNR rescaling)' : '') +
          `; got ${b}`,
      );
    }
  }
}

function scheduleFromBetas(numTrainTimesteps: number, betas: Float64Array): NoiseSchedule {
  const alphas = new Float64Array(numTrainTimesteps);
  const alphasCumprod = new Float64Array(numTrainTimesteps);
  let prod = 1;
  for (let i = 0; i < numTrainTimesteps; i++) {
    alphas[i] = 1 - betas[i]!;
    prod *= alphas[i]!;
    alphasCumprod[i] = prod;
  }
  return { numTrainTimesteps, betas, alphas, alphasCumprod };
}

/**
 * Build a noise schedule with diffusers' options (camelCased). Computed in
 * float64; diffusers keeps betas in float32, so values agree to about 1e-7
 * relative.
 */
/**
 * The most training timesteps a schedule may have: far past any published schedule (1,000–4,000),
 * and small enough that a hostile config is refused before its arrays are allocated.
 */
export const MAX_TRAIN_TIMESTEPS = 100_000;

export function makeSchedule(config: ScheduleConfig = {}): NoiseSchedule {
  checkOptions('makeSchedule', config, SCHEDULE_CONFIG_KEYS);
  const trained = config.trainedBetas ?? null;
  const rescale = checkBoolean('rescaleBetasZeroSnr', config.rescaleBetasZeroSnr ?? false);
  let T: number;
  let betas: Float64Array;
  if (trained !== null) {
    if (typeof trained !== 'object' || typeof trained.length !== 'number') {
      throw new TypeError(`trainedBetas must be an array of numbers or null; got ${String(trained)}`);
    }
    if (config.numTrainTimesteps !== undefined && config.numTrainTimesteps !== trained.length) {
      throw new RangeError(
        `trainedBetas must have numTrainTimesteps (${config.numTrainTimesteps}) entries; got ${trained.length}`,
      );
    }
    T = checkInteger('trainedBetas.length', trained.length, 2, MAX_TRAIN_TIMESTEPS);
    betas = Float64Array.from(trained);
    // Trained betas may already carry a zero-SNR end (β_T = 1).
    checkBetas(betas, 'trainedBetas', true);
  } else {
    T = checkInteger('numTrainTimesteps', config.numTrainTimesteps ?? 1000, 2, MAX_TRAIN_TIMESTEPS);
    const schedule = checkOneOf('betaSchedule', config.betaSchedule ?? 'linear', BETA_SCHEDULES);
    const start = checkFinite('betaStart', config.betaStart ?? 0.0001);
    const end = checkFinite('betaEnd', config.betaEnd ?? 0.02);
    switch (schedule) {
      case 'linear':
        betas = linspace(start, end, T);
        break;
      case 'scaled_linear':
        betas = linspace(Math.sqrt(start), Math.sqrt(end), T).map((x) => x * x);
        break;
      case 'squaredcos_cap_v2':
        betas = cosineBetas(T);
        break;
      case 'sigmoid':
        betas = linspace(-6, 6, T).map((x) => (1 / (1 + Math.exp(-x))) * (end - start) + start);
        break;
    }
    const source = schedule === 'squaredcos_cap_v2' ? 'betas' : `betas (from betaStart=${start}, betaEnd=${end})`;
    checkBetas(betas, source, false);
  }
  if (rescale) betas = rescaleZeroTerminalSnr(betas);
  return scheduleFromBetas(T, betas);
}
