import type { ScheduleLike } from './types.js';

/**
 * ᾱ at a fractional timestep, linearly interpolated between the two
 * neighbouring integer timesteps (as the schedules package does).
 */
export function alphaBarAt(schedule: ScheduleLike, t: number): number {
  const n = schedule.numTrainTimesteps;
  if (!(t >= 0 && t <= n - 1)) {
    throw new RangeError(`t must be in [0, ${n - 1}] (numTrainTimesteps - 1); got ${t}`);
  }
  const lo = Math.floor(t);
  const hi = Math.min(lo + 1, n - 1);
  const f = t - lo;
  const ac = schedule.alphasCumprod;
  return (1 - f) * ac[lo]! + f * ac[hi]!;
}

/** √ᾱ_t and √(1 − ᾱ_t) for each timestep of a batch. */
export function noiseCoefficients(schedule: ScheduleLike, ts: ArrayLike<number>): { a: Float64Array; s: Float64Array } {
  const a = new Float64Array(ts.length);
  const s = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const ab = alphaBarAt(schedule, ts[i]!);
    a[i] = Math.sqrt(ab);
    s[i] = Math.sqrt(1 - ab);
  }
  return { a, s };
}
