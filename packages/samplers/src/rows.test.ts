import * as tf from '@tensorflow/tfjs';
import { alphaCumprodAt, makeSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { clip } from './clip.js';
import { ddim } from './ddim.js';
import { ddpm } from './ddpm.js';
import { dynamicThreshold } from './dynamic-threshold.js';
import { eulerAncestral } from './euler-ancestral.js';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { sample, type SampleOptions } from './sample.js';
import { describeSampler, samplerFromSpec, x0ProcessorFromSpec } from './spec.js';
import type { Conditioning } from './conditioning.js';
import type { Denoiser, Sampler } from './types.js';

const schedule = makeSchedule();
const SHAPE: [number, number, number, number] = [5, 3, 3, 1];
const S2 = 0.25;

/**
 * The exact ε-denoiser of class-conditional Gaussian data N(μ_c, s² I), μ_c = c/5 − 1 (the null class 3: μ = 0):
 * x̂0 = μ + √ᾱ s² (x − √ᾱ μ) / (ᾱ s² + 1 − ᾱ), ε̂ = (x − √ᾱ x̂0)/√(1 − ᾱ).
 */
const gaussian: Denoiser = {
  prediction: 'epsilon',
  numClasses: 3,
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D {
    return tf.tidy(() => {
      const b = x.shape[0];
      const a = tf.tensor4d(Array.from(t.dataSync(), (v) => alphaCumprodAt(schedule, v)), [b, 1, 1, 1]);
      const ids = cond?.classLabels ? Array.from(cond.classLabels.dataSync()) : new Array<number>(b).fill(3);
      const mu = tf.tensor4d(ids.map((c) => (c === 3 ? 0 : c / 5 - 1)), [b, 1, 1, 1]);
      const sa = tf.sqrt(a);
      const x0 = tf.add(mu, tf.div(tf.mul(tf.mul(sa, S2), tf.sub(x, tf.mul(sa, mu))), tf.add(tf.mul(a, S2), tf.sub(1, a))));
      return tf.div(tf.sub(x, tf.mul(sa, x0)), tf.sqrt(tf.sub(1, a))) as tf.Tensor4D;
    });
  },
};

async function rowsOf(sampler: Sampler, options: SampleOptions, parts: [number, number][]): Promise<Float32Array> {
  const out: number[] = [];
  for (const rows of parts) {
    const r = await sample(gaussian, sampler, { ...options, rows });
    out.push(...(await r.samples.data()));
    r.samples.dispose();
  }
  return Float32Array.from(out);
}

async function whole(sampler: Sampler, options: SampleOptions): Promise<Float32Array> {
  const r = await sample(gaussian, sampler, options);
  const data = (await r.samples.data()) as Float32Array;
  r.samples.dispose();
  return data;
}

describe('sample() with rows', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const cases: [string, () => Sampler][] = [
    ['DDIM (deterministic)', () => ddim({ timestepSpacing: 'trailing' })],
    ['DDIM η = 1', () => ddim({ eta: 1, timestepSpacing: 'trailing' })],
    ['DDPM', () => ddpm({ timestepSpacing: 'trailing' })],
    ['Euler ancestral', () => eulerAncestral({ timestepSpacing: 'trailing' })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: rows [0, 2), [2, 3), [3, 5) are bitwise the rows of one call, with guidance and class labels`, async () => {
      const before = tf.memory().numTensors;
      const labels = tf.tensor1d([0, 2, 1, 1, 0], 'int32');
      const options: SampleOptions = {
        schedule, shape: SHAPE, numInferenceSteps: 8, seed: 11, cond: { classLabels: labels },
        guidance: { guidanceScale: 3, nullClass: 3 }, x0Processor: dynamicThreshold({ sampleMaxValue: 1.5 }),
      };
      const want = await whole(make(), options);
      const got = await rowsOf(make(), options, [[0, 2], [2, 3], [3, 5]]);
      expect(got).toEqual(want);
      // Rows drawn as a batch of their own get other noise: the equality above is not a given.
      const last = tf.slice(labels, [3], [2]);
      const alone = await whole(make(), { ...options, shape: [2, 3, 3, 1], cond: { classLabels: last } });
      expect(Array.from(alone)).not.toEqual(Array.from(want.subarray(18)));
      tf.dispose([labels, last]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('img2img and a given noise tensor: rows of the whole batch', async () => {
    const init = tf.randomNormal(SHAPE, 0, 0.5, 'float32', 3) as tf.Tensor4D;
    const noise = tf.randomNormal(SHAPE, 0, 1, 'float32', 4) as tf.Tensor4D;
    const s = () => ddpm({ timestepSpacing: 'trailing' });
    const a: SampleOptions = { schedule, numInferenceSteps: 10, seed: 2, initImage: init, strength: 0.6 };
    expect(await rowsOf(s(), a, [[0, 4], [4, 5]])).toEqual(await whole(s(), a));
    const b: SampleOptions = { schedule, numInferenceSteps: 10, seed: 2, noise };
    expect(await rowsOf(s(), b, [[0, 1], [1, 5]])).toEqual(await whole(s(), b));
    tf.dispose([init, noise]);
  });

  it('rejects rows outside the batch, naming the parameter', async () => {
    const opts: SampleOptions = { schedule, shape: SHAPE, numInferenceSteps: 2 };
    const before = tf.memory().numTensors;
    await expect(sample(gaussian, ddim(), { ...opts, rows: [3, 6] })).rejects.toThrow(/rows must be \[start, end\] with integers 0 <= start < end <= 5 .*\[3,6\]/);
    await expect(sample(gaussian, ddim(), { ...opts, rows: [2, 2] })).rejects.toThrow(/rows must be/);
    const labels = tf.tensor1d([0, 1, 2, 9, 0], 'int32');
    await expect(sample(gaussian, ddim(), { ...opts, rows: [0, 2], cond: { classLabels: labels } })).rejects.toThrow(/classLabels must be integers in \[0, 3\].*got 9 at index 3/);
    labels.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('describeSampler / samplerFromSpec', () => {
  it('a described sampler is plain data and rebuilds one with the same steps', async () => {
    const made = [
      ddim({ eta: 0.5, timestepSpacing: 'trailing', x0Processor: clip(1.2) }),
      dpmSolverPlusPlus2M({ useKarrasSigmas: true, x0Processor: dynamicThreshold({ dynamicThresholdingRatio: 0.9, sampleMaxValue: 1.3 }) }),
      eulerAncestral({ eta: 0.7 }),
    ];
    for (const s of made) {
      const spec = describeSampler(s);
      expect(structuredClone(spec)).toEqual(spec);
      const again = samplerFromSpec(structuredClone(spec));
      expect(again.name).toBe(s.name);
      const opts: SampleOptions = { schedule, shape: SHAPE, numInferenceSteps: 6, seed: 5 };
      expect(await whole(again, opts)).toEqual(await whole(s, opts));
    }
    const x = tf.tensor4d([-3, -1.1, 0.5, 2], [1, 2, 2, 1]);
    const p = x0ProcessorFromSpec(structuredClone(describeSampler(made[0]!).options as { x0Processor: never }).x0Processor);
    const y = p(x);
    expect(Array.from(y.dataSync())).toEqual([-1.2, Math.fround(-1.1), 0.5, 1.2].map(Math.fround));
    tf.dispose([x, y]);
  });

  it('a hand-written sampler or x0 processor cannot be described: the error names it', () => {
    const mine: Sampler = { name: 'mine', timesteps: () => [1], step: (a) => ({ prevSample: a.sample, predOriginalSample: a.sample }) };
    expect(() => describeSampler(mine)).toThrow(/sampler 'mine' was not built by one of ddim, ddpm/);
    expect(() => describeSampler(ddim({ x0Processor: (v) => v }))).toThrow(/x0 processor was not built by clip or dynamicThreshold/);
    expect(() => samplerFromSpec({ factory: 'plms', options: {} })).toThrow(/factory must be one of ddim, .*; got "plms"/);
  });
});
