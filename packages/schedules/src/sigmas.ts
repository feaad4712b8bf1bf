import { checkFinite, checkOneOf } from './check.js';
import { checkOptions, optionKeys } from './options.js';
import type { NoiseSchedule } from './schedule.js';

/*
 * Sigma space (Karras et al. 2022, "Elucidating the Design Space of
 * Diffusion-Based Generative Models"): x_t/√ᾱ_t = x_0 + σ_t ε with
 * σ_t = √((1 − ᾱ_t)/ᾱ_t), and SNR_t = ᾱ_t/(1 − ᾱ_t) = 1/σ_t²
 * (Kingma et al. 2021, "Variational Diffusion Models").
 */

/** σ = √((1 − ᾱ)/ᾱ); ᾱ = 0 (zero terminal SNR) gives Infinity. */
export function alphaCumprodToSigma(alphaCumprod: number): number {
  if (!(alphaCumprod >= 0 && alphaCumprod <= 1)) {
    throw new RangeError(`alphaCumprod must be in [0, 1]; got ${alphaCumprod}`);
  }
  return Math.sqrt((1 - alphaCumprod) / alphaCumprod);
}

/** ᾱ = 1/(1 + σ²); σ = Infinity gives 0. */
export function sigmaToAlphaCumprod(sigma: number): number {
  if (!(sigma >= 0)) throw new RangeError(`sigma must be >= 0 (Infinity allowed); got ${sigma}`);
  return 1 / (1 + sigma * sigma);
}

/** σ_t for every training timestep, ascending in t. */
export function sigmas(schedule: NoiseSchedule): Float64Array {
  return schedule.alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
}

/** SNR_t = ᾱ_t/(1 − ᾱ_t) for every training timestep. */
export function snr(schedule: NoiseSchedule): Float64Array {
  return schedule.alphasCumprod.map((a) => a / (1 - a));
}

/** log SNR_t = log ᾱ_t − log(1 − ᾱ_t) (−Infinity where ᾱ = 0). */
export function logSnr(schedule: NoiseSchedule): Float64Array {
  return schedule.alphasCumprod.map((a) => Math.log(a) - Math.log1p(-a));
}

export const INTERPOLATIONS = ['log_snr', 'linear'] as const;
/**
 * How values between two training timesteps are found:
 * - `'log_snr'` (default): linear in log σ, i.e. in log-SNR; the exact inverse of `sigmaToTimestep`.
 * - `'linear'`: linear in the returned quantity (σ for `sigmaAt`, as diffusers' `np.interp`
 *   over sigmas in EulerDiscreteScheduler; ᾱ for `alphaCumprodAt`).
 */
export type Interpolation = (typeof INTERPOLATIONS)[number];

export interface InterpolationOptions {
  interpolation?: Interpolation;
}

const INTERPOLATION_OPTION_KEYS = optionKeys<InterpolationOptions>()(['interpolation']);

function locate(schedule: NoiseSchedule, t: number): { lo: number; w: number } {
  const T = schedule.numTrainTimesteps;
  checkFinite('t', t);
  if (t < 0 || t > T - 1) throw new RangeError(`t must be in [0, ${T - 1}] (numTrainTimesteps − 1); got ${t}`);
  const lo = Math.min(Math.floor(t), T - 2);
  return { lo, w: t - lo };
}

/**
 * ᾱ at a possibly fractional timestep t ∈ [0, T − 1].
 * Between the last two timesteps of a zero-terminal-SNR schedule (σ = ∞ at
 * the end) the log-SNR interpolation has no finite values, so ᾱ is
 * interpolated linearly there, consistently with `sigmaToTimestep`.
 */
export function alphaCumprodAt(schedule: NoiseSchedule, t: number, options: InterpolationOptions = {}): number {
  checkOptions('alphaCumprodAt', options, INTERPOLATION_OPTION_KEYS);
  const mode = checkOneOf('interpolation', options.interpolation ?? 'log_snr', INTERPOLATIONS);
  const { lo, w } = locate(schedule, t);
  const a0 = schedule.alphasCumprod[lo]!;
  const a1 = schedule.alphasCumprod[lo + 1]!;
  if (w === 0) return a0;
  if (w === 1) return a1;
  if (mode === 'linear' || a1 === 0) return (1 - w) * a0 + w * a1;
  const l = (1 - w) * (Math.log(a0) - Math.log1p(-a0)) + w * (Math.log(a1) - Math.log1p(-a1));
  return 1 / (1 + Math.exp(-l)); // sigmoid(log SNR)
}

/** σ at a possibly fractional timestep t ∈ [0, T − 1] (see `Interpolation`). */
export function sigmaAt(schedule: NoiseSchedule, t: number, options: InterpolationOptions = {}): number {
  checkOptions('sigmaAt', options, INTERPOLATION_OPTION_KEYS);
  const mode = checkOneOf('interpolation', options.interpolation ?? 'log_snr', INTERPOLATIONS);
  const { lo, w } = locate(schedule, t);
  const a0 = schedule.alphasCumprod[lo]!;
  const a1 = schedule.alphasCumprod[lo + 1]!;
  const s0 = Math.sqrt((1 - a0) / a0);
  const s1 = Math.sqrt((1 - a1) / a1);
  if (w === 0) return s0;
  if (w === 1) return s1;
  if (mode === 'linear') return s1 === Infinity ? Infinity : (1 - w) * s0 + w * s1;
  if (a1 === 0) return alphaCumprodToSigma((1 - w) * a0);
  return Math.exp((1 - w) * Math.log(s0) + w * Math.log(s1));
}

/**
 * The fractional training timestep whose σ is `sigma`, by linear
 * interpolation in log σ between the neighbouring training sigmas, clamped to
 * [0, T − 1] (diffusers' `_sigma_to_t`). On a zero-terminal-SNR schedule a σ
 * above the last finite one maps into (T − 2, T − 1] by the linear-ᾱ rule of
 * `alphaCumprodAt`, and σ = Infinity maps to T − 1 (diffusers returns T − 2 or NaN there).
 */
export function sigmaToTimestep(schedule: NoiseSchedule, sigma: number): number {
  if (!(sigma >= 0)) throw new RangeError(`sigma must be >= 0 (Infinity allowed); got ${sigma}`);
  const abar = schedule.alphasCumprod;
  const T = schedule.numTrainTimesteps;
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const logSigmaAt = (i: number): number => 0.5 * (Math.log1p(-abar[i]!) - Math.log(abar[i]!));
  // Largest i ≤ T − 2 with log σ_i ≤ log σ (0 if none); σ_t increases with t.
  let lo = 0;
  let hi = T - 2;
  if (logSigmaAt(0) > logSigma) hi = 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (logSigmaAt(mid) <= logSigma) lo = mid;
    else hi = mid - 1;
  }
  const l0 = logSigmaAt(lo);
  const l1 = logSigmaAt(lo + 1);
  if (l1 === Infinity) {
    if (sigma === Infinity) return T - 1;
    if (logSigma <= l0) return lo;
    return lo + 1 - sigmaToAlphaCumprod(sigma) / abar[lo]!;
  }
  let w = l0 === l1 ? (logSigma >= l1 ? 1 : 0) : (l0 - logSigma) / (l0 - l1);
  w = Math.min(Math.max(w, 0), 1);
  return (1 - w) * lo + w * (lo + 1);
}
