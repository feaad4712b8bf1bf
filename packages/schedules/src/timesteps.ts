import { checkInteger, checkOneOf } from './check.js';
import { checkOptions, optionKeys } from './options.js';
import type { NoiseSchedule } from './schedule.js';

export const TIMESTEP_SPACINGS = ['leading', 'trailing', 'linspace'] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

/** `value` as a TimestepSpacing, or a RangeError naming `name` and the accepted values. */
export function checkTimestepSpacing(value: unknown, name = 'timestepSpacing'): TimestepSpacing {
  return checkOneOf(name, value, TIMESTEP_SPACINGS);
}

export interface TimestepsOptions {
  /** How the inference steps are spread over [0, T) (diffusers' `timestep_spacing`; default `'leading'`, as DDIM/DDPM). */
  timestepSpacing?: TimestepSpacing;
  /** Added to every timestep with `'leading'` spacing, as diffusers' `steps_offset` (default 0). */
  stepsOffset?: number;
}

export const TIMESTEPS_OPTION_KEYS = optionKeys<TimestepsOptions>()(['timestepSpacing', 'stepsOffset']);

/** numpy's round: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The descending integer timesteps diffusers' DDIM/DDPM `set_timesteps` produce
 * (Lin et al. 2023 compare them):
 * - leading:  arange(0, n) · (T // n) + stepsOffset
 * - trailing: round(arange(T, 0, −T/n)) − 1
 * - linspace: round(linspace(0, T − 1, n))
 */
export function timesteps(schedule: NoiseSchedule, numInferenceSteps: number, options: TimestepsOptions = {}): number[] {
  checkOptions('timesteps', options, TIMESTEPS_OPTION_KEYS);
  const T = schedule.numTrainTimesteps;
  const n = checkInteger('numInferenceSteps', numInferenceSteps, 1, T);
  const spacing = checkTimestepSpacing(options.timestepSpacing ?? 'leading');
  const offset = checkInteger('stepsOffset', options.stepsOffset ?? 0, 0);
  const out: number[] = [];
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    for (let i = n - 1; i >= 0; i--) out.push(i * ratio + offset);
  } else if (spacing === 'trailing') {
    // Values as numpy's float arange computes them: start + i·(fl(start + step) − start).
    // numpy's length, ceil(T / (T/n)), is n + 1 for some n (61 of 1000, for
    // one), which gives diffusers an extra timestep −1; we keep exactly n.
    const step = -(T / n);
    const delta = T + step - T;
    for (let i = 0; i < n; i++) out.push(roundHalfEven(T + i * delta) - 1);
  } else {
    const step = (T - 1) / (n - 1);
    for (let i = n - 1; i >= 0; i--) out.push(n === 1 ? 0 : i === n - 1 ? T - 1 : roundHalfEven(i * step));
  }
  if (out[0]! > T - 1) {
    throw new RangeError(
      `stepsOffset must keep every timestep below numTrainTimesteps (${T}); with numInferenceSteps=${n} ` +
        `the largest is ${out[0]}, so stepsOffset must be <= ${offset - (out[0]! - (T - 1))}; got ${offset}`,
    );
  }
  return out;
}
