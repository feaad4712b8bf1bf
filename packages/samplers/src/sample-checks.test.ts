import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { ddim } from './ddim.js';
import { sample } from './sample.js';
import type { Denoiser } from './types.js';

const schedule = makeSchedule();

/** A class-conditional stand-in with 10 classes: predicts ε = 0.1·x. */
const conditional: Denoiser = { prediction: 'epsilon', numClasses: 10, predict: (x) => tf.mul(x, 0.1) as tf.Tensor4D };

describe('sample() input and output checks', () => {
  it.each<[string, number[], { guidanceScale: number; nullClass: number } | undefined, RegExp]>([
    ['50 (>= numClasses)', [1, 50], { guidanceScale: 3, nullClass: 10 }, /classLabels must be integers in \[0, 9\]; got 50 at index 1/],
    ['-3', [-3, 1], { guidanceScale: 3, nullClass: 10 }, /got -3 at index 0/],
    ['1.5', [1.5, 1], undefined, /got 1.5 at index 0/],
    ['11 without guidance (past the null class)', [0, 11], undefined, /integers in \[0, 10\] \(10 = the null class\); got 11/],
    ['a nullClass of 99', [1, 2], { guidanceScale: 3, nullClass: 99 }, /nullClass must be the denoiser's null class 10.*got 99/],
  ])('refuses class ids %s before the first step, leaking nothing', async (_, ids, guidance, msg) => {
    const labels = tf.tensor1d(ids, ids.some((v) => !Number.isInteger(v)) ? 'float32' : 'int32');
    const before = tf.memory().numTensors;
    await expect(sample(conditional, ddim(), { schedule, shape: [2, 1, 1, 1], numInferenceSteps: 3, cond: { classLabels: labels }, guidance })).rejects.toThrow(msg);
    expect(tf.memory().numTensors).toBe(before);
    labels.dispose();
  });

  it('refuses a cond field it does not know, naming it and the nearest field, before the first step', async () => {
    const labels = tf.tensor1d([1, 2], 'int32');
    const before = tf.memory().numTensors;
    const calls: number[] = [];
    const counting: Denoiser = { ...conditional, predict: (x, t) => (calls.push(1), conditional.predict(x, t)) };
    for (const [cond, msg] of [
      [{ classLabel: labels }, "sample: unknown option 'cond.classLabel'; did you mean 'cond.classLabels'? Accepted in cond: "],
      [{ classLabels: labels, textEmbeds: labels }, "sample: unknown option 'cond.textEmbeds'"],
    ] as const) {
      await expect(sample(counting, ddim(), { schedule, shape: [2, 1, 1, 1], numInferenceSteps: 3, cond: cond as never })).rejects.toThrow(msg);
    }
    expect(calls).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    labels.dispose();
  });

  it('refuses a seed outside [0, 2^32 − 1] (2^32 used to give seed 1\'s images), leaking nothing', async () => {
    const before = tf.memory().numTensors;
    for (const seed of [2 ** 32, -1, 0.5]) {
      await expect(sample(conditional, ddim(), { schedule, shape: [1, 1, 1, 1], numInferenceSteps: 2, seed })).rejects.toThrow(`sample: seed must be an integer in [0, 4294967295] (32 bits); got ${seed}`);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts the null class without guidance and the full range with it', async () => {
    const labels = tf.tensor1d([0, 9, 10], 'int32');
    const { samples } = await sample(conditional, ddim(), { schedule, shape: [3, 1, 1, 1], numInferenceSteps: 2, cond: { classLabels: labels } });
    samples.dispose();
    labels.dispose();
  });

  it('reports NaN produced while sampling instead of passing it on, leaking nothing', async () => {
    // NaN only in the second image: the message counts the bad values.
    const nan: Denoiser = { prediction: 'epsilon', predict: (x) => tf.tidy(() => tf.mul(x, tf.tensor4d([1, NaN], [2, 1, 1, 1]))) };
    const before = tf.memory().numTensors;
    await expect(sample(nan, ddim(), { schedule, shape: [2, 1, 1, 1], numInferenceSteps: 3, returnIntermediates: true })).rejects.toThrow(
      /sample: 1 of 2 values of the result are NaN or infinite/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const { samples } = await sample(nan, ddim(), { schedule, shape: [2, 1, 1, 1], numInferenceSteps: 3, checkFinite: false });
    expect(Number.isNaN(samples.dataSync()[1])).toBe(true);
    samples.dispose();
  });
});
