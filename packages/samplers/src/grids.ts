import {
  checkTimestepSpacing,
  exponentialSigmas,
  karrasSigmas,
  roundHalfEven,
  sigmaToAlphaCumprod,
  sigmaToTimestep,
  timesteps as scheduleTimesteps,
  type NoiseSchedule,
  type TimestepSpacing,
} from '@tfjs-diffusion/schedules';

/*
 * The step grids of diffusers' sigma-space schedulers. DDPM and DDIM use the
 * schedules package's `timesteps` as they are; Euler/Heun keep linspace
 * timesteps fractional and DPM-Solver has its own linspace/leading rules, so
 * those differences live here.
 */

export type FinalSigmas = 'zero' | 'sigma_min';

export interface SpacingOptions {
  /** How inference timesteps are spread over training time (diffusers' `timestep_spacing`). */
  timestepSpacing?: TimestepSpacing;
  /** Added to 'leading' timesteps (diffusers' `steps_offset`). */
  stepsOffset?: number;
}

/** A run: model timesteps and the ᾱ of the sample at each of them plus the final level. */
export interface Plan {
  timesteps: number[];
  alphasCumprod: number[];
}

export function checkSteps(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`numInferenceSteps must be a positive integer; got ${n}`);
}

/** numpy.linspace(0, stop, num) as numpy computes it (k · step, endpoint exact), descending. */
function linspaceDesc(stop: number, num: number): number[] {
  const step = stop / (num - 1);
  return Array.from({ length: num }, (_, k) => (num === 1 ? 0 : k === num - 1 ? stop : k * step)).reverse();
}

/**
 * σ per training timestep. An ᾱ of exactly 0 (zero terminal SNR) becomes 2⁻²⁴ so σ_max is finite,
 * as diffusers' sigma schedulers do under `rescale_betas_zero_snr`; every other ᾱ is kept (the
 * cosine schedule's ᾱ₉₉₉ = 2.4e-9 gives σ_max ≈ 20,291, which the model's t = 999 stands for).
 */
export function trainSigmas(schedule: NoiseSchedule): Float64Array {
  const ac = schedule.alphasCumprod;
  const out = new Float64Array(ac.length);
  for (let i = 0; i < ac.length; i++) {
    const a = ac[i] === 0 ? 2 ** -24 : ac[i];
    out[i] = Math.sqrt((1 - a) / a);
  }
  return out;
}

/** numpy.interp of `ys` (given at 0, 1, 2, …) at x. */
export function interpAt(ys: ArrayLike<number>, x: number): number {
  if (x <= 0) return ys[0];
  if (x >= ys.length - 1) return ys[ys.length - 1];
  const lo = Math.floor(x);
  const w = x - lo;
  return w === 0 ? ys[lo] : ys[lo] * (1 - w) + ys[lo + 1] * w;
}

function finalSigma(schedule: NoiseSchedule, finalSigmas: FinalSigmas): number {
  if (finalSigmas === 'zero') return 0;
  if (finalSigmas === 'sigma_min') return trainSigmas(schedule)[0];
  throw new Error(`finalSigmasType must be one of 'zero', 'sigma_min'; got '${finalSigmas}'`);
}

function toPlan(timesteps: number[], sigmas: number[], last: number): Plan {
  return { timesteps, alphasCumprod: [...sigmas, last].map((s) => sigmaToAlphaCumprod(s)) };
}

/** Which σ plan a sampler uses: its grid's own σ, Karras σ or exponential σ (diffusers allows one of them). */
export interface SigmaPlanOptions {
  /** Karras et al. 2022 noise levels (ρ = 7) between the grid's σ extremes (diffusers' `use_karras_sigmas`). Default false. */
  useKarrasSigmas?: boolean;
  /** Noise levels evenly spaced in log σ between the grid's σ extremes (diffusers' `use_exponential_sigmas`). Default false. */
  useExponentialSigmas?: boolean;
}

export function checkSigmaPlan(opts: SigmaPlanOptions): void {
  if (opts.useKarrasSigmas && opts.useExponentialSigmas) {
    throw new Error('useKarrasSigmas and useExponentialSigmas: only one of them can be true');
  }
}

/**
 * EulerDiscreteScheduler / EulerAncestral / Heun: linspace timesteps stay fractional,
 * σ is interpolated linearly in σ, Karras or exponential σ run between the grid's own σ extremes.
 */
export function eulerPlan(
  schedule: NoiseSchedule,
  n: number,
  opts: SpacingOptions & SigmaPlanOptions & { finalSigmasType?: FinalSigmas },
): Plan {
  checkSteps(n);
  const spacing = checkTimestepSpacing(opts.timestepSpacing ?? 'linspace');
  const T = schedule.numTrainTimesteps;
  let ts: number[];
  if (spacing === 'linspace') {
    ts = linspaceDesc(T - 1, n).map(Math.fround);
  } else {
    ts = scheduleTimesteps(schedule, n, { timestepSpacing: spacing, stepsOffset: opts.stepsOffset ?? 0 });
  }
  const table = trainSigmas(schedule);
  let sigmas = ts.map((t) => interpAt(table, t));
  checkSigmaPlan(opts);
  if (opts.useKarrasSigmas || opts.useExponentialSigmas) {
    const [lo, hi] = [sigmas[sigmas.length - 1], sigmas[0]];
    sigmas = Array.from(opts.useKarrasSigmas ? karrasSigmas(n, lo, hi, 7) : exponentialSigmas(n, lo, hi));
    ts = sigmas.map((s) => sigmaToTimestep(schedule, s));
  }
  return toPlan(ts, sigmas, finalSigma(schedule, opts.finalSigmasType ?? 'zero'));
}

/** DPMSolverMultistepScheduler: integer timesteps from its own grid, Karras σ over the whole training range. */
export function dpmPlan(
  schedule: NoiseSchedule,
  n: number,
  opts: SpacingOptions & { useKarrasSigmas?: boolean; finalSigmasType?: FinalSigmas; roundKarrasTimesteps?: boolean },
): Plan {
  checkSteps(n);
  const spacing = checkTimestepSpacing(opts.timestepSpacing ?? 'linspace');
  const T = schedule.numTrainTimesteps;
  let ts: number[];
  if (spacing === 'linspace') {
    ts = linspaceDesc(T - 1, n + 1).slice(0, n).map(roundHalfEven);
  } else if (spacing === 'leading') {
    const ratio = Math.floor(T / (n + 1));
    ts = Array.from({ length: n + 1 }, (_, k) => k * ratio).reverse().slice(0, n).map((t) => t + (opts.stepsOffset ?? 0));
  } else {
    ts = scheduleTimesteps(schedule, n, { timestepSpacing: 'trailing' });
  }
  const table = trainSigmas(schedule);
  let sigmas: number[];
  if (opts.useKarrasSigmas) {
    sigmas = Array.from(karrasSigmas(n, table[0], table[T - 1], 7));
    ts = sigmas.map((s) => sigmaToTimestep(schedule, s));
    if (opts.roundKarrasTimesteps ?? true) ts = ts.map(roundHalfEven);
  } else {
    sigmas = ts.map((t) => interpAt(table, t));
  }
  return toPlan(ts, sigmas, finalSigma(schedule, opts.finalSigmasType ?? 'zero'));
}
