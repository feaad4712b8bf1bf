import { alphaCumprodAt, type NoiseSchedule } from '@tfjs-diffusion/schedules';

/**
 * √ᾱ_t and √(1 − ᾱ_t) for each timestep of a batch; fractional t uses the
 * schedule's own interpolation (`alphaCumprodAt`), as the samplers do.
 */
export function noiseCoefficients(schedule: NoiseSchedule, ts: ArrayLike<number>): { a: Float64Array; s: Float64Array } {
  const a = new Float64Array(ts.length);
  const s = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const ab = alphaCumprodAt(schedule, ts[i]!);
    a[i] = Math.sqrt(ab);
    s[i] = Math.sqrt(1 - ab);
  }
  return { a, s };
}
