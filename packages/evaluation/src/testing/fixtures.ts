import { createRng } from '@tfjs-diffusion/schedules';

/** DDPM's linear β schedule (Ho et al. 2020), computed here so tests need no other package. */
export function linearSchedule(n = 1000, betaStart = 1e-4, betaEnd = 0.02) {
  const betas = new Float64Array(n);
  const alphas = new Float64Array(n);
  const alphasCumprod = new Float64Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    betas[i] = betaStart + ((betaEnd - betaStart) * i) / (n - 1);
    alphas[i] = 1 - betas[i]!;
    prod *= alphas[i]!;
    alphasCumprod[i] = prod;
  }
  return { numTrainTimesteps: n, betas, alphas, alphasCumprod };
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
