import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { predictX0 } from './formulas.js';
import { sample } from './sample.js';
import { SamplerState } from './state.js';
import type { Denoiser, Sampler } from './types.js';

describe('SamplerState ownership: it keeps a copy, the caller keeps what it passed', () => {
  it('a tensor passed and then disposed by the caller stays readable in the state', () => {
    const state = new SamplerState();
    const mine = tf.tensor1d([1, 2, 3]);
    state.setTensor('x', mine);
    mine.dispose();
    expect(Array.from(state.getTensor<tf.Tensor1D>('x')!.dataSync())).toEqual([1, 2, 3]);
    const before = tf.memory().numTensors;
    state.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });

  it("a sampler that stores its own kept copy and frees it leaves no tensor behind over a run", async () => {
    const schedule = makeSchedule();
    // Keeps its own copy of x0 across steps (tf.keep) and frees the previous one itself.
    let own: tf.Tensor | undefined;
    const mine: Sampler = {
      name: 'mine',
      timesteps: () => [900, 600, 300, 0],
      step: ({ sample: x, modelOutput, prediction, alphaCumprod, prevAlphaCumprod, state }) => {
        const x0 = predictX0(prediction, x, modelOutput, alphaCumprod);
        own?.dispose();
        own = tf.keep(tf.clone(x0));
        state.setTensor('x0', own);
        const prev = tf.add(tf.mul(x0, Math.sqrt(prevAlphaCumprod)), tf.mul(x, Math.sqrt(1 - prevAlphaCumprod))) as tf.Tensor4D;
        return { prevSample: prev, predOriginalSample: x0 };
      },
    };
    const zero: Denoiser = { prediction: 'epsilon', predict: (x) => tf.zerosLike(x) };
    const before = tf.memory().numTensors;
    const out = await sample(zero, mine, { schedule, shape: [2, 2, 2, 1], numInferenceSteps: 4, seed: 0 });
    tf.dispose([out.samples, ...out.intermediates, ...out.predictions]);
    own?.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
