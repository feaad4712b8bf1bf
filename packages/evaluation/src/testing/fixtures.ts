import { createRng } from '@tfjs-diffusion/schedules';

/**
 * ᾱ at a fractional t by interpolating log SNR = log(ᾱ/(1−ᾱ)) linearly
 * between neighbouring timesteps, written out here independently of the code.
 */
export function alphaBarLogSnr(alphasCumprod: ArrayLike<number>, t: number): number {
  const lo = Math.min(Math.floor(t), alphasCumprod.length - 2);
  const w = t - lo;
  const a0 = alphasCumprod[lo]!;
  const a1 = alphasCumprod[lo + 1]!;
  const l = (1 - w) * Math.log(a0 / (1 - a0)) + w * Math.log(a1 / (1 - a1));
  return 1 / (1 + Math.exp(-l));
}

/** n × d values, uniform in [-1, 1). */
export function uniformData(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = 2 * rng.next() - 1;
  return out;
}

export function normalData(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}
