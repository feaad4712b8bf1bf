import * as tf from '@tensorflow/tfjs';
import { ddim, sample } from '@tfjs-diffusion/samplers';
import { createRng, makeSchedule } from '@tfjs-diffusion/schedules';
import { EmpiricalDenoiser, SmoothedEmpiricalDenoiser, memorizationRate } from '@tfjs-diffusion/evaluation';

// 20 training "images": 8×8 random patterns in [-1, 1].
const rng = createRng(0);
const train = { data: Float32Array.from({ length: 20 * 64 }, () => 2 * rng.next() - 1), shape: [20, 8, 8, 1] };
const schedule = makeSchedule();

// The optimal denoiser for this finite set: sampling with it copies the training set.
const empirical = new EmpiricalDenoiser(train, schedule, { prediction: 'epsilon' });
const copied = await sample(empirical, ddim(), { schedule, shape: [16, 8, 8, 1], numInferenceSteps: 50, seed: 1 });
console.log('empirical denoiser, memorization rate:', memorizationRate(copied.samples, train).rate); // 1

// Temperature smoothing over the 5 nearest points: flatter weights, fewer copies.
const smoothed = new SmoothedEmpiricalDenoiser({ trainImages: train, schedule, temperature: 1000, k: 5, prediction: 'epsilon' });
const mixed = await sample(smoothed, ddim(), { schedule, shape: [16, 8, 8, 1], numInferenceSteps: 50, seed: 1 });
console.log('smoothed (c = 1000, K = 5), memorization rate:', memorizationRate(mixed.samples, train).rate);

tf.dispose([copied.samples, mixed.samples]);
empirical.dispose();
smoothed.dispose();
