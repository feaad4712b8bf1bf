import { checkBoolean, checkFinite, checkInteger, checkOneOf } from './check.js';
import { betaPpf } from './beta-ppf.js';
import { linspace } from './schedule.js';
import { checkOptions, optionKeys } from './options.js';

/*
 * Flow matching (Lipman et al. 2023; Liu et al. 2023, rectified flow; Esser et al. 2024, SD3):
 * x_σ = (1 − σ) x0 + σ ε, σ ∈ [0, 1], the model's timestep t = σ · numTrainTimesteps.
 * The noise levels are diffusers' FlowMatchEulerDiscreteScheduler.set_timesteps, formula for formula.
 */

export const TIME_SHIFT_TYPES = ['exponential', 'linear'] as const;
export type TimeShiftType = (typeof TIME_SHIFT_TYPES)[number];

export interface FlowSigmasOptions {
  /** Default 1000. */
  numTrainTimesteps?: number;
  /** σ' = shift·σ/(1 + (shift − 1)σ) (SD3: 3). Default 1. Ignored with `useDynamicShifting`. */
  shift?: number;
  /** Shift by `mu` instead (`timeShift`), as Flux's resolution-dependent shifting. Default false. */
  useDynamicShifting?: boolean;
  /** The shift of `useDynamicShifting` (diffusers' `set_timesteps(mu=…)`; `calculateShift` computes it). */
  mu?: number;
  /** Default 'exponential'. */
  timeShiftType?: TimeShiftType;
  /** Stretch the shifted levels so the last is this value (LTX-Video's `shift_terminal`). Default none. */
  shiftTerminal?: number | null;
  /** σ → 1 − σ, ending at 1 (diffusers' `invert_sigmas`). Default false. */
  invertSigmas?: boolean;
  /** Karras (ρ = 7), exponential or Beta(0.6, 0.6) spacing between the shifted extremes; at most one. */
  useKarrasSigmas?: boolean;
  useExponentialSigmas?: boolean;
  useBetaSigmas?: boolean;
}

export const FLOW_SIGMAS_OPTION_KEYS = optionKeys<FlowSigmasOptions>()([
  'numTrainTimesteps', 'shift', 'useDynamicShifting', 'mu', 'timeShiftType', 'shiftTerminal', 'invertSigmas',
  'useKarrasSigmas', 'useExponentialSigmas', 'useBetaSigmas',
]);

export interface FlowPlan {
  /** n + 1 noise levels: the n of the steps, then 0 (1 with `invertSigmas`). */
  sigmas: number[];
  /** The model timesteps σ · numTrainTimesteps of the n steps. */
  timesteps: number[];
}

/** σ' = shift·σ/(1 + (shift − 1)σ), the SD3 shift (Esser et al. 2024, eq. 23). */
export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

/** diffusers' `time_shift(mu, 1, σ)`: exp(μ)/(exp(μ) + (1/σ − 1)) ('exponential') or μ/(μ + (1/σ − 1)) ('linear'). */
export function timeShift(mu: number, sigma: number, type: TimeShiftType = 'exponential'): number {
  const m = type === 'exponential' ? Math.exp(mu) : mu;
  return m / (m + (1 / sigma - 1));
}

export interface CalculateShiftOptions {
  baseImageSeqLen?: number;
  maxImageSeqLen?: number;
  baseShift?: number;
  maxShift?: number;
}
const CALCULATE_SHIFT_KEYS = optionKeys<CalculateShiftOptions>()(['baseImageSeqLen', 'maxImageSeqLen', 'baseShift', 'maxShift']);

/**
 * The `mu` diffusers' Flux / SD3 pipelines pass to `set_timesteps` (`calculate_shift`): linear in the
 * image sequence length (latent h·w / patch²), from `baseShift` at `baseImageSeqLen` (defaults 0.5 at 256)
 * to `maxShift` at `maxImageSeqLen` (1.15 at 4096); pass a scheduler config's values.
 */
export function calculateShift(imageSeqLen: number, options: CalculateShiftOptions = {}): number {
  checkOptions('calculateShift', options, CALCULATE_SHIFT_KEYS);
  checkFinite('imageSeqLen', imageSeqLen);
  const { baseImageSeqLen = 256, maxImageSeqLen = 4096, baseShift = 0.5, maxShift = 1.15 } = options;
  for (const [k, v] of Object.entries({ baseImageSeqLen, maxImageSeqLen, baseShift, maxShift })) checkFinite(k, v);
  if (maxImageSeqLen === baseImageSeqLen) throw new RangeError(`maxImageSeqLen must differ from baseImageSeqLen (${baseImageSeqLen})`);
  const m = (maxShift - baseShift) / (maxImageSeqLen - baseImageSeqLen);
  const b = baseShift - m * baseImageSeqLen;
  return imageSeqLen * m + b;
}

function checkFlowOptions(o: FlowSigmasOptions) {
  const T = checkInteger('numTrainTimesteps', o.numTrainTimesteps ?? 1000, 2);
  const shift = checkFinite('shift', o.shift ?? 1);
  if (!(shift > 0)) throw new RangeError(`shift must be > 0; got ${shift}`);
  const dynamic = checkBoolean('useDynamicShifting', o.useDynamicShifting ?? false);
  if (dynamic && o.mu === undefined) throw new Error('mu is required when useDynamicShifting is true (diffusers: `mu` must be passed; calculateShift computes it)');
  if (o.mu !== undefined) checkFinite('mu', o.mu);
  const type = checkOneOf('timeShiftType', o.timeShiftType ?? 'exponential', TIME_SHIFT_TYPES);
  const terminal = o.shiftTerminal ?? null;
  if (terminal !== null && !(checkFinite('shiftTerminal', terminal) >= 0 && terminal < 1)) throw new RangeError(`shiftTerminal must be in [0, 1) or null; got ${terminal}`);
  const kinds = (['useKarrasSigmas', 'useExponentialSigmas', 'useBetaSigmas'] as const).filter((k) => checkBoolean(k, o[k] ?? false));
  if (kinds.length > 1) throw new Error(`only one of useKarrasSigmas, useExponentialSigmas, useBetaSigmas may be true; got ${kinds.join(' and ')}`);
  return { T, shift, dynamic, type, terminal, kind: kinds[0], invert: checkBoolean('invertSigmas', o.invertSigmas ?? false) };
}

/**
 * The noise levels and timesteps of an n-step flow-matching run, as diffusers'
 * FlowMatchEulerDiscreteScheduler(…).set_timesteps(n, mu): linspace from σ_max·T to σ_min·T
 * (σ_max = 1, σ_min the scheduler's smallest training σ, already shifted unless dynamic), divided
 * by T, shifted (by `shift`, or by `mu` when dynamic), stretched to `shiftTerminal`, respaced
 * (Karras / exponential / beta), inverted, and 0 (or 1) appended. In float64 (diffusers rounds to float32).
 */
export function flowSigmas(numInferenceSteps: number, options: FlowSigmasOptions = {}): FlowPlan {
  checkOptions('flowSigmas', options, FLOW_SIGMAS_OPTION_KEYS);
  const n = checkInteger('numInferenceSteps', numInferenceSteps, 1);
  const { T, shift, dynamic, type, terminal, kind, invert } = checkFlowOptions(options);
  // The scheduler's training sigmas are float32: its σ_min is (shift applied unless dynamic) at 1/T.
  const first = Math.fround(1 / T);
  const sigmaMin = dynamic ? first : Math.fround(shiftSigma(first, shift));
  let s = Array.from(linspace(T, sigmaMin * T, n), (t) => t / T);
  s = s.map((x) => (dynamic ? timeShift(options.mu!, x, type) : shiftSigma(x, shift)));
  if (terminal !== null && terminal !== 0) {
    const scale = (1 - s[n - 1]!) / (1 - terminal);
    s = s.map((x) => 1 - (1 - x) / scale);
  }
  if (kind) {
    const hi = s[0]!;
    const lo = s[n - 1]!;
    const ramp = Array.from(linspace(0, 1, n));
    if (kind === 'useKarrasSigmas') {
      const rho = 7;
      s = ramp.map((r) => (hi ** (1 / rho) + r * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho);
    } else if (kind === 'useExponentialSigmas') {
      s = Array.from(linspace(Math.log(hi), Math.log(lo), n), Math.exp);
    } else {
      s = ramp.map((r) => lo + betaPpf(1 - r, 0.6, 0.6) * (hi - lo));
    }
  }
  if (invert) s = s.map((x) => 1 - x);
  return { sigmas: [...s, invert ? 1 : 0], timesteps: s.map((x) => x * T) };
}

/** The ᾱ of DDPM scaling at flow level σ: x_σ / √((1−σ)² + σ²) = √ᾱ x0 + √(1−ᾱ) ε with √ᾱ = (1−σ)/√((1−σ)² + σ²). */
export function flowSigmaToAlphaCumprod(sigma: number): number {
  const a = (1 - sigma) ** 2;
  return a / (a + sigma * sigma);
}
