import { checkOptions, createRng, optionKeys } from '@tfjs-diffusion/schedules';
import type { ImageDataset } from './dataset.js';

// Toy sets are vectors shaped [N, 1, 1, D], so every model and sampler treats them as images.
const vectors = (data: Float32Array, n: number, d: number, labels?: Int32Array): ImageDataset => ({ images: data, shape: [n, 1, 1, d], labels });

function checkN(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name}: n must be a positive integer; got ${n}`);
}

const GAUSSIAN_MIXTURE_KEYS = optionKeys<NonNullable<Parameters<typeof gaussianMixture>[0]>>()([
  'n', 'modes', 'radius', 'std', 'seed',
]);

/** `modes` Gaussians of std `std` evenly spaced on a circle of `radius`; labels say which. */
export function gaussianMixture(opts: { n: number; modes?: number; radius?: number; std?: number; seed?: number }): ImageDataset {
  checkOptions('gaussianMixture', opts, GAUSSIAN_MIXTURE_KEYS);
  checkN(opts.n, 'gaussianMixture');
  const k = opts.modes ?? 8;
  const r = opts.radius ?? 1;
  const s = opts.std ?? 0.05;
  const rng = createRng(opts.seed ?? 0);
  const data = new Float32Array(opts.n * 2);
  const labels = new Int32Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    const m = rng.nextInt(k);
    labels[i] = m;
    data[2 * i] = r * Math.cos((2 * Math.PI * m) / k) + s * rng.normal();
    data[2 * i + 1] = r * Math.sin((2 * Math.PI * m) / k) + s * rng.normal();
  }
  return vectors(data, opts.n, 2, labels);
}

const TWO_MOONS_KEYS = optionKeys<NonNullable<Parameters<typeof twoMoons>[0]>>()(['n', 'noise', 'seed']);

/** scikit-learn's two moons, scaled to about [-1, 1]; labels say which moon. */
export function twoMoons(opts: { n: number; noise?: number; seed?: number }): ImageDataset {
  checkOptions('twoMoons', opts, TWO_MOONS_KEYS);
  checkN(opts.n, 'twoMoons');
  const rng = createRng(opts.seed ?? 0);
  const noise = opts.noise ?? 0.05;
  const data = new Float32Array(opts.n * 2);
  const labels = new Int32Array(opts.n);
  for (let i = 0; i < opts.n; i++) {
    const m = i % 2;
    const t = Math.PI * rng.next();
    const [x, y] = m === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    labels[i] = m;
    data[2 * i] = (x - 0.5) / 1.5 + noise * rng.normal();
    data[2 * i + 1] = (y - 0.25) / 1.5 + noise * rng.normal();
  }
  return vectors(data, opts.n, 2, labels);
}

const SWISS_ROLL_KEYS = optionKeys<NonNullable<Parameters<typeof swissRoll>[0]>>()(['n', 'noise', 'seed']);

/** A 2-D swiss roll (t·cos t, t·sin t for t in [1.5π, 4.5π]) scaled into about [-1, 1]. */
export function swissRoll(opts: { n: number; noise?: number; seed?: number }): ImageDataset {
  checkOptions('swissRoll', opts, SWISS_ROLL_KEYS);
  checkN(opts.n, 'swissRoll');
  const rng = createRng(opts.seed ?? 0);
  const noise = opts.noise ?? 0.02;
  const data = new Float32Array(opts.n * 2);
  for (let i = 0; i < opts.n; i++) {
    const t = 1.5 * Math.PI * (1 + 2 * rng.next());
    data[2 * i] = (t * Math.cos(t)) / (4.5 * Math.PI) + noise * rng.normal();
    data[2 * i + 1] = (t * Math.sin(t)) / (4.5 * Math.PI) + noise * rng.normal();
  }
  return vectors(data, opts.n, 2);
}

const CIRCLE_IN_RD_KEYS = optionKeys<NonNullable<Parameters<typeof circleInRd>[0]>>()([
  'n', 'dim', 'radius', 'seed', 'evenlySpaced',
]);

/**
 * n points on a circle of `radius` in R^dim: angles uniform (or evenly
 * spaced), embedded by a seeded random orthonormal pair of directions. The
 * frame is returned, so a test can project back.
 */
export function circleInRd(opts: { n: number; dim?: number; radius?: number; seed?: number; evenlySpaced?: boolean }): ImageDataset & { frame: [Float64Array, Float64Array]; angles: Float64Array } {
  checkOptions('circleInRd', opts, CIRCLE_IN_RD_KEYS);
  checkN(opts.n, 'circleInRd');
  const d = opts.dim ?? 64;
  if (!Number.isInteger(d) || d < 2) throw new RangeError(`circleInRd: dim must be an integer >= 2; got ${d}`);
  const r = opts.radius ?? 1;
  const rng = createRng(opts.seed ?? 0);
  const u = Float64Array.from({ length: d }, () => rng.normal());
  const v = Float64Array.from({ length: d }, () => rng.normal());
  const norm = (a: Float64Array) => {
    const s = Math.hypot(...a);
    for (let i = 0; i < d; i++) a[i]! /= s;
  };
  norm(u);
  const dot = u.reduce((s, x, i) => s + x * v[i]!, 0);
  for (let i = 0; i < d; i++) v[i]! -= dot * u[i]!;
  norm(v);
  const angles = Float64Array.from({ length: opts.n }, (_, i) => (opts.evenlySpaced ? (2 * Math.PI * i) / opts.n : 2 * Math.PI * rng.next()));
  const data = new Float32Array(opts.n * d);
  angles.forEach((a, i) => {
    for (let j = 0; j < d; j++) data[i * d + j] = r * (Math.cos(a) * u[j]! + Math.sin(a) * v[j]!);
  });
  return { ...vectors(data, opts.n, d), frame: [u, v], angles };
}
