import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { UNet, unetPreset } from '@tfjs-diffusion/models';
import { ddim, ddpm, dynamicThreshold, eulerAncestral, sample, type Sampler, type SampleOptions } from '@tfjs-diffusion/samplers';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParallelSampler, type ParallelSampler } from './parallelSampler.js';

const schedule = makeSchedule();
const config = unetPreset('mnist-tiny', { sampleSize: 8, blockOutChannels: [8, 16], attentionResolutions: [4], normNumGroups: 4, numClasses: 3 });
const SHAPE: [number, number, number, number] = [5, 8, 8, 1];

/** A U-Net with every weight drawn at random (the init zeroes the output conv: its samples would not depend on the network). */
function randomUNet(seed: number): UNet {
  const m = new UNet(config, { seed });
  m.parameters().forEach((p, i) => tf.tidy(() => p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.2, 'float32', seed * 1000 + i))));
  return m;
}

async function pixels(out: Promise<{ samples: tf.Tensor4D }>): Promise<Float32Array> {
  const { samples } = await out;
  const data = (await samples.data()) as Float32Array;
  samples.dispose();
  return data;
}

describe('createParallelSampler on wasm, two threads', () => {
  let ps: ParallelSampler;
  let model: UNet;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm', quiet: true });
    model = randomUNet(1);
    ps = await createParallelSampler(model, { threads: 2 });
  }, 60_000);
  afterAll(async () => {
    await ps?.dispose();
    model?.dispose();
  });

  const cases: [string, () => Sampler, boolean][] = [
    ['DDIM (deterministic)', () => ddim({ timestepSpacing: 'trailing' }), false],
    ['DDPM (stochastic)', () => ddpm({ timestepSpacing: 'trailing' }), false],
    ['Euler ancestral with classifier-free guidance, class labels and dynamic thresholding', () => eulerAncestral({ timestepSpacing: 'trailing' }), true],
  ];
  for (const [name, make, guided] of cases) {
    it(`${name}: the same images as one thread, bitwise`, async () => {
      expect(ps.threads).toBe(2);
      const labels = tf.tensor1d([2, 0, 1, 1, 2], 'int32');
      const options: SampleOptions = {
        schedule, shape: SHAPE, numInferenceSteps: 6, seed: 7, cond: { classLabels: labels },
        ...(guided && { guidance: { guidanceScale: 2.5, nullClass: 3 }, x0Processor: dynamicThreshold({ sampleMaxValue: 1.5 }) }),
      };
      const before = tf.memory().numTensors;
      const one = await pixels(sample(model, make(), options));
      const two = await pixels(ps.sample(model, make(), options));
      expect(tf.memory().numTensors).toBe(before);
      expect(two).toEqual(one);
      // The rows the worker sampled depend on the network (the test can tell weights apart).
      const other = await pixels(sample(model, make(), { ...options, seed: 8 }));
      expect(Array.from(other.subarray(3 * 64))).not.toEqual(Array.from(one.subarray(3 * 64)));
      labels.dispose();
    }, 120_000);
  }

  it("takes each call's weights: another model of the same config, then this one again", async () => {
    const b = randomUNet(2);
    const options: SampleOptions = { schedule, shape: [3, 8, 8, 1], numInferenceSteps: 4, seed: 3, cond: { classLabels: tf.tensor1d([0, 1, 2], 'int32') } };
    try {
      expect(await pixels(ps.sample(b, ddim(), options))).toEqual(await pixels(sample(b, ddim(), options)));
      expect(await pixels(ps.sample(model, ddim(), options))).toEqual(await pixels(sample(model, ddim(), options)));
    } finally {
      b.dispose();
      options.cond!.classLabels!.dispose();
    }
  }, 120_000);

  it("a worker's error reaches the caller, nothing leaks, and the workers keep working", async () => {
    // Only the worker's rows (3 and 4) hold a NaN: its sample() refuses the result.
    const init = tf.tidy(() => tf.concat([tf.zeros([4, 8, 8, 1]), tf.fill([1, 8, 8, 1], NaN)]) as tf.Tensor4D);
    const labels = tf.tensor1d([0, 1, 2, 0, 1], 'int32');
    const before = tf.memory().numTensors;
    await expect(ps.sample(model, ddim(), { schedule, numInferenceSteps: 3, initImage: init, strength: 0.5, cond: { classLabels: labels } })).rejects.toThrow(
      /worker 1: .*sample: \d+ of 128 values of the result are NaN or infinite/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const ok = await pixels(ps.sample(model, ddim(), { schedule, shape: SHAPE, numInferenceSteps: 2, cond: { classLabels: labels } }));
    expect(ok.every(Number.isFinite)).toBe(true);
    await expect(ps.sample(model, { name: 'mine', timesteps: () => [1], step: (a) => ({ prevSample: a.sample, predOriginalSample: a.sample }) }, { schedule, shape: SHAPE, numInferenceSteps: 1 })).rejects.toThrow(
      /sampler 'mine' was not built by one of ddim/,
    );
    await expect(ps.sample(model, ddim(), { schedule, shape: SHAPE, numInferenceSteps: 1, x0Processor: (x) => x, cond: { classLabels: labels } })).rejects.toThrow(/x0 processor was not built by clip or dynamicThreshold/);
    const small = new UNet({ ...config, blockOutChannels: [4, 8] });
    await expect(ps.sample(small, ddim(), { schedule, shape: SHAPE, numInferenceSteps: 1, cond: { classLabels: labels } })).rejects.toThrow(/parameters .* differ from the workers'/);
    small.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([init, labels]);
  }, 120_000);

  it('refuses a bad thread count by name; one thread samples here', async () => {
    await expect(createParallelSampler(model, { threads: 0 })).rejects.toThrow(/threads must be a positive integer; got 0/);
    const solo = await createParallelSampler(model, { threads: 1 });
    expect(solo.threads).toBe(1);
    const labels = tf.tensor1d([0, 1, 2, 0, 1], 'int32');
    const opts: SampleOptions = { schedule, shape: SHAPE, numInferenceSteps: 2, cond: { classLabels: labels } };
    expect(await pixels(solo.sample(model, ddim(), opts))).toEqual(await pixels(sample(model, ddim(), opts)));
    await solo.dispose();
    labels.dispose();
  });
});
