// Shared by the tests that replay diffusers' schedulers with plain numbers.
import * as tf from '@tensorflow/tfjs';
import { makeSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { startRun } from '../run.js';
import type { Sampler } from '../types.js';

/** Stable Diffusion's schedule (scaled_linear, β from 0.00085 to 0.012). */
export const SD_SCHEDULE = makeSchedule({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });

export const X_T = [0.9, -1.3, 0.4, 1.7];
const SHAPE: [number, number, number, number] = [1, 2, 2, 1];

/** A smooth stand-in for a network: output_k = 0.7 x_k + 0.1 sin(k + t/100). */
export function model(x: readonly number[], t: number): number[] {
  return x.map((v, k) => 0.7 * v + 0.1 * Math.sin(k + t / 100));
}

/** numpy's round (half to even). */
export function npRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Runs `sampler` through startRun with `model` as the network, and returns the sample after
 * every step (DDPM scaling), the timesteps the model saw, and how many tensors were left behind.
 */
export function runSampler(sampler: Sampler, n: number, prediction: Prediction): { timesteps: number[]; samples: number[][]; leaked: number } {
  const before = tf.memory().numTensors;
  const run = startRun(sampler, { schedule: SD_SCHEDULE, numInferenceSteps: n, prediction });
  let x = tf.tensor4d(X_T, SHAPE);
  const samples: number[][] = [];
  for (let i = 0; i < run.timesteps.length; i++) {
    const out = tf.tensor4d(model(Array.from(x.dataSync()), run.timesteps[i]!), SHAPE);
    const { prevSample, predOriginalSample } = run.step(i, x, out);
    out.dispose();
    predOriginalSample.dispose();
    x.dispose();
    x = prevSample;
    samples.push(Array.from(x.dataSync()));
  }
  x.dispose();
  run.dispose();
  return { timesteps: [...run.timesteps], samples, leaked: tf.memory().numTensors - before };
}

/** The largest relative difference (absolute below 1) between two vectors of the same length. */
export function maxRelDiff(actual: readonly number[], expected: readonly number[]): number {
  if (actual.length !== expected.length) return Infinity;
  return Math.max(...actual.map((v, k) => Math.abs(v - expected[k]!) / Math.max(1, Math.abs(expected[k]!))));
}

// Plain vector arithmetic for the references.
export const add = (a: readonly number[], b: readonly number[]) => a.map((v, k) => v + b[k]!);
export const sub = (a: readonly number[], b: readonly number[]) => a.map((v, k) => v - b[k]!);
export const scale = (a: readonly number[], c: number) => a.map((v) => v * c);
