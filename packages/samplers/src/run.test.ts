import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { heun } from './heun.js';
import { startRun } from './run.js';
import { sample } from './sample.js';
import type { Denoiser } from './types.js';

const schedule = makeSchedule();
// A smooth toy model: ε̂ = 0.3 x + t / 2000.
const toy: Denoiser = {
  prediction: 'epsilon',
  predict: (x, t) => tf.tidy(() => tf.add(tf.mul(x, 0.3), tf.reshape(tf.div(t, 2000), [-1, 1, 1, 1])) as tf.Tensor4D),
};

describe('startRun', () => {
  it('a loop written by hand gives what sample() gives, without leaks', async () => {
    const noise = tf.tensor4d([0.5, -1, 2, 0.1], [2, 1, 1, 2]);
    const { samples } = await sample(toy, dpmSolverPlusPlus2M(), { schedule, numInferenceSteps: 12, noise });
    const before = tf.memory().numTensors;
    const run = startRun(dpmSolverPlusPlus2M(), { schedule, numInferenceSteps: 12, prediction: 'epsilon' });
    let x = tf.clone(noise);
    for (let i = 0; i < run.timesteps.length; i++) {
      const t = tf.fill([2], run.timesteps[i]) as tf.Tensor1D;
      const out = toy.predict(x, t);
      const { prevSample, predOriginalSample } = run.step(i, x, out);
      tf.dispose([x, t, out, predOriginalSample]);
      x = prevSample;
    }
    run.dispose();
    expect(Array.from(x.dataSync())).toEqual(Array.from(samples.dataSync()));
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([samples, noise]);
  });

  it('names what a second-order sampler needs and a bad index', () => {
    const run = startRun(heun(), { schedule, numInferenceSteps: 4, prediction: 'epsilon' });
    const x = tf.ones([1, 1, 1, 1]) as tf.Tensor4D;
    expect(() => run.step(0, x, x)).toThrow(/pass denoise to startRun/);
    expect(() => run.step(4, x, x)).toThrow(/step index i must be an integer in \[0, 3\]/);
    run.dispose();
    x.dispose();
  });
});
