import { checkFinite, checkInteger } from './check.js';

/**
 * The noise levels of Karras et al. 2022, eq. 5:
 * σ_i = (σ_max^{1/ρ} + i/(n − 1) · (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0 … n − 1,
 * descending from exactly `sigmaMax` to exactly `sigmaMin`, without the final 0.
 */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = 7): Float64Array {
  checkInteger('n', n, 1);
  checkFinite('sigmaMin', sigmaMin);
  checkFinite('sigmaMax', sigmaMax);
  checkFinite('rho', rho);
  if (sigmaMin < 0) throw new RangeError(`sigmaMin must be >= 0; got ${sigmaMin}`);
  if (sigmaMax < sigmaMin) throw new RangeError(`sigmaMax must be >= sigmaMin (${sigmaMin}); got ${sigmaMax}`);
  if (rho <= 0) throw new RangeError(`rho must be > 0; got ${rho}`);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ramp = n === 1 ? 0 : i / (n - 1);
    out[i] = (maxInv + ramp * (minInv - maxInv)) ** rho;
  }
  out[0] = sigmaMax;
  if (n > 1) out[n - 1] = sigmaMin;
  return out;
}

/**
 * Noise levels evenly spaced in log σ (diffusers' `use_exponential_sigmas`):
 * σ_i = exp(log σ_max + i/(n − 1) · (log σ_min − log σ_max)), descending from exactly
 * `sigmaMax` to exactly `sigmaMin`, without the final 0.
 */
export function exponentialSigmas(n: number, sigmaMin: number, sigmaMax: number): Float64Array {
  checkInteger('n', n, 1);
  checkFinite('sigmaMin', sigmaMin);
  checkFinite('sigmaMax', sigmaMax);
  if (!(sigmaMin > 0)) throw new RangeError(`sigmaMin must be > 0 (log σ); got ${sigmaMin}`);
  if (sigmaMax < sigmaMin) throw new RangeError(`sigmaMax must be >= sigmaMin (${sigmaMin}); got ${sigmaMax}`);
  const lo = Math.log(sigmaMin);
  const hi = Math.log(sigmaMax);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(n === 1 ? hi : hi + (i / (n - 1)) * (lo - hi));
  out[0] = sigmaMax;
  if (n > 1) out[n - 1] = sigmaMin;
  return out;
}
