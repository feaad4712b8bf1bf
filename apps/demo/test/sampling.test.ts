import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, buildSampler, buildSchedule, modelConfig, sampleImages, type GridRequest } from '../src/build.js';
import { validateConfig } from '../src/config.js';
import { presetConfig, SAMPLERS } from '../src/presets.js';

describe('sampleImages in chunks', () => {
  const c = presetConfig('mnist-tiny');
  c.model.overrides = { blockOutChannels: [8, 8], normNumGroups: 4 };
  let model: ReturnType<typeof buildModel>;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = buildModel(modelConfig(c, 10), 0);
  });
  afterAll(() => model.dispose());

  const req = (n: number, seed: number, labels: number[]): GridRequest => ({
    sampler: 'ddim', steps: 2, guidance: 2, guidanceRescale: 0, threshold: 'clip', eta: 0,
    seed, labels, n, numClasses: 10, height: 28, width: 28, channels: 1,
  });

  it('splits a large request into chunks, chunk k with seed + k and its own labels, and reports progress', async () => {
    const chunk = 4;
    const n = chunk + 3;
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const all = await sampleImages(model, buildSchedule(c), { ...req(n, 7, labels), onProgress: (done, total) => { expect(total).toBe(n); seen.push(done); } }, chunk);
    expect(tf.memory().numTensors).toBe(before);
    expect(all.length).toBe(n * 784);
    const first = await sampleImages(model, buildSchedule(c), req(chunk, 7, labels.slice(0, chunk)));
    const rest = await sampleImages(model, buildSchedule(c), req(3, 8, labels.slice(chunk)));
    expect(Array.from(all.subarray(0, chunk * 784))).toEqual(Array.from(first));
    expect(Array.from(all.subarray(chunk * 784))).toEqual(Array.from(rest));
    expect(seen.every((d, i) => i === 0 || d > seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(n);
  });
});

describe('the sampler flags', () => {
  it('build registry samplers with the demo recipe, and a σ plan where the sampler takes one', () => {
    const schedule = buildSchedule(presetConfig('mnist-tiny'));
    // Trailing spacing: the first step is at the last training timestep, for every sampler (σ = 1, t = σ·T for flow matching).
    for (const name of SAMPLERS) {
      const s = buildSampler(name);
      expect(s.timesteps(schedule, 4)[0], name).toBe(s.flow ? 1000 : 999);
    }
    const k = buildSampler('heun', { sigmas: 'karras' });
    const levels = k.alphasCumprod!(schedule, k.timesteps(schedule, 4)).map((a) => Math.sqrt((1 - a) / a));
    const own = buildSampler('heun');
    const ownLevels = own.alphasCumprod!(schedule, own.timesteps(schedule, 4)).map((a) => Math.sqrt((1 - a) / a));
    // Karras σ (ρ = 7) between the trailing grid's own σ extremes.
    const [hi, lo] = [ownLevels[0]!, ownLevels[3]!];
    for (let i = 0; i < 4; i++) expect(levels[i]).toBeCloseTo((hi ** (1 / 7) + (i / 3) * (lo ** (1 / 7) - hi ** (1 / 7))) ** 7, 6);
    const e = buildSampler('euler', { sigmas: 'exponential' });
    const eLevels = e.alphasCumprod!(schedule, e.timesteps(schedule, 4)).map((a) => Math.sqrt((1 - a) / a));
    for (let i = 0; i < 4; i++) expect(eLevels[i]).toBeCloseTo(Math.exp(Math.log(hi) + (i / 3) * (Math.log(lo) - Math.log(hi))), 6);
    expect(() => buildSampler('ddim', { sigmas: 'karras' })).toThrow(
      "--sigmas karras: sampler 'ddim' has no σ plan of its own; karras σ work with euler, euler-a, heun, dpmpp-2m, lms, unipc, flow-euler",
    );
    expect(() => buildSampler('dpmpp-2m', { sigmas: 'exponential' })).toThrow(/exponential σ work with euler, euler-a, heun, lms, flow-euler$/);
    expect(() => validateConfig({ ...presetConfig('mnist-tiny'), sampler: { ...presetConfig('mnist-tiny').sampler, sigmas: 'karras' } }, 'run')).toThrow(
      /run: --sigmas karras: sampler 'ddim' has no σ plan/,
    );
  });
});
