// Prints β, ᾱ, σ and log-SNR at a few timesteps for each built-in schedule.
// Run: npx tsx --conditions=source packages/schedules/examples/summary.ts
import { logSnr, makeSchedule, sigmas, type ScheduleConfig } from '@tfjs-diffusion/schedules';

const sd = { betaStart: 0.00085, betaEnd: 0.012 };
const configs: [string, ScheduleConfig][] = [
  ['linear (DDPM)', { betaSchedule: 'linear' }],
  ['scaled_linear (Stable Diffusion)', { betaSchedule: 'scaled_linear', ...sd }],
  ['squaredcos_cap_v2 (cosine)', { betaSchedule: 'squaredcos_cap_v2' }],
  ['sigmoid', { betaSchedule: 'sigmoid' }],
  ['linear + zero terminal SNR', { betaSchedule: 'linear', rescaleBetasZeroSnr: true }],
  ['scaled_linear + zero terminal SNR', { betaSchedule: 'scaled_linear', ...sd, rescaleBetasZeroSnr: true }],
];
const ts = [0, 100, 250, 500, 750, 900, 999];

const fmt = (x: number): string => (Number.isFinite(x) ? x.toExponential(4) : String(x)).padStart(12);
const header = ['t', 'beta', 'alpha_bar', 'sigma', 'log_snr'];

for (const [name, config] of configs) {
  const s = makeSchedule(config);
  const sig = sigmas(s);
  const ls = logSnr(s);
  console.log(`\n${name}  (T = ${s.numTrainTimesteps})`);
  console.log(header.map((h, i) => (i === 0 ? h.padStart(5) : h.padStart(12))).join(' '));
  for (const t of ts) {
    console.log([String(t).padStart(5), fmt(s.betas[t]!), fmt(s.alphasCumprod[t]!), fmt(sig[t]!), fmt(ls[t]!)].join(' '));
  }
}
