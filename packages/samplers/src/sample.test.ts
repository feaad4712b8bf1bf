import * as tf from '@tensorflow/tfjs';
import { alphaCumprodAt, makeSchedule, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { ddim } from './ddim.js';
import { ddpm } from './ddpm.js';
import { dpmSolverPlusPlus2M } from './dpm-solver.js';
import { dynamicThreshold } from './dynamic-threshold.js';
import { euler } from './euler.js';
import { eulerAncestral } from './euler-ancestral.js';
import { heun } from './heun.js';
import { lms } from './lms.js';
import { pndm } from './pndm.js';
import { uniPC } from './unipc.js';
import { sample } from './sample.js';
import type { Conditioning } from './conditioning.js';
import type { Denoiser, Sampler } from './types.js';

const schedule = makeSchedule();
const MU = [0.5, -1.0];
const S = [0.4, 0.8];
const B = 1024;
const SHAPE: [number, number, number, number] = [B, 1, 1, 2];

/** Per-timestep ᾱ as a [B, 1, 1, 1] tensor. */
function alphaBar(sched: NoiseSchedule, t: tf.Tensor1D): tf.Tensor4D {
  const ts = Array.from(t.dataSync());
  return tf.tensor4d(ts.map((v) => alphaCumprodAt(sched, v)), [ts.length, 1, 1, 1]);
}

/** Converts a posterior mean x̂0 to the requested prediction type. */
function fromX0(pred: Prediction, x: tf.Tensor4D, x0: tf.Tensor4D, a: tf.Tensor4D): tf.Tensor4D {
  const sa = tf.sqrt(a);
  const sb = tf.sqrt(tf.sub(1, a));
  const eps = tf.div(tf.sub(x, tf.mul(sa, x0)), sb);
  if (pred === 'sample') return x0;
  if (pred === 'epsilon') return eps as tf.Tensor4D;
  return tf.sub(tf.mul(sa, eps), tf.mul(sb, x0)) as tf.Tensor4D;
}

/** The exact denoiser of N(μ, diag(s²)) data: x̂0 = μ + √ᾱ s² (x − √ᾱ μ) / (ᾱ s² + 1 − ᾱ). */
function gaussianDenoiser(pred: Prediction, sched: NoiseSchedule = schedule): Denoiser {
  return {
    prediction: pred,
    predict: (x, t) =>
      tf.tidy(() => {
        const a = alphaBar(sched, t);
        const mu = tf.tensor4d(MU, [1, 1, 1, 2]);
        const s2 = tf.tensor4d(S.map((v) => v * v), [1, 1, 1, 2]);
        const sa = tf.sqrt(a);
        const resid = tf.sub(x, tf.mul(sa, mu));
        const x0 = tf.add(mu, tf.div(tf.mul(tf.mul(sa, s2), resid), tf.add(tf.mul(a, s2), tf.sub(1, a))));
        return fromX0(pred, x, x0 as tf.Tensor4D, a);
      }),
  };
}

function stats(x: tf.Tensor4D): { mean: number[]; std: number[] } {
  const v = x.dataSync();
  const mean = [0, 0];
  const sq = [0, 0];
  for (let k = 0; k < v.length; k++) mean[k % 2] += v[k] / (v.length / 2);
  for (let k = 0; k < v.length; k++) sq[k % 2] += (v[k] - mean[k % 2]) ** 2 / (v.length / 2 - 1);
  return { mean, std: sq.map(Math.sqrt) };
}

function expectGaussian(x: tf.Tensor4D): void {
  const { mean, std } = stats(x);
  for (let d = 0; d < 2; d++) {
    // 4 standard errors of the mean, 12% on the std.
    expect(Math.abs(mean[d] - MU[d])).toBeLessThan((4 * S[d]) / Math.sqrt(B));
    expect(Math.abs(std[d] / S[d] - 1)).toBeLessThan(0.12);
  }
}

const SAMPLERS: [string, () => Sampler, number][] = [
  ['ddpm fixed_small', () => ddpm(), 1000],
  ['ddpm fixed_large', () => ddpm({ varianceType: 'fixed_large' }), 1000],
  ['ddim eta 0', () => ddim(), 50],
  ['ddim eta 1', () => ddim({ eta: 1 }), 50],
  ['euler', () => euler(), 50],
  ['euler karras', () => euler({ useKarrasSigmas: true }), 50],
  ['euler ancestral', () => eulerAncestral(), 50],
  ['heun', () => heun(), 50],
  ['dpm++ 2m', () => dpmSolverPlusPlus2M(), 50],
  ['dpm++ 2m karras', () => dpmSolverPlusPlus2M({ useKarrasSigmas: true }), 50],
  ['pndm (plms, skip_prk_steps)', () => pndm({ skipPrkSteps: true, stepsOffset: 1 }), 50],
  ['pndm (runge-kutta warm-up)', () => pndm(), 50],
  ['lms', () => lms(), 50],
  ['lms karras', () => lms({ useKarrasSigmas: true }), 50],
  ['unipc bh2', () => uniPC(), 20],
  ['unipc bh1 order 3', () => uniPC({ solverType: 'bh1', solverOrder: 3 }), 20],
];

describe('samples of Gaussian data have its mean and std', () => {
  for (const [name, make, steps] of SAMPLERS) {
    for (const pred of ['epsilon', 'v', 'sample'] as Prediction[]) {
      it(`${name}, ${pred}, ${steps} steps`, async () => {
        const { samples } = await sample(gaussianDenoiser(pred), make(), { schedule, shape: SHAPE, numInferenceSteps: steps, seed: 1 });
        expectGaussian(samples);
        samples.dispose();
      });
    }
  }

  const zsnr = makeSchedule({ rescaleBetasZeroSnr: true });
  const zeroSnrSamplers: [string, Sampler][] = [
    ['ddim', ddim({ timestepSpacing: 'trailing' })],
    ['euler', euler({ timestepSpacing: 'trailing' })],
    ['dpm++ 2m', dpmSolverPlusPlus2M({ timestepSpacing: 'trailing' })],
    ['unipc', uniPC({ timestepSpacing: 'trailing' })],
  ];
  for (const [name, sampler] of zeroSnrSamplers) {
    it(`${name} with trailing spacing on a zero-terminal-SNR schedule (v prediction)`, async () => {
      const { samples } = await sample(gaussianDenoiser('v', zsnr), sampler, { schedule: zsnr, shape: SHAPE, numInferenceSteps: 25, seed: 2 });
      expectGaussian(samples);
      samples.dispose();
    });
  }
});

describe('a custom sampler plugs into sample()', () => {
  // Deterministic Euler in ᾱ space: move x̂0 and ε̂ to the next noise level.
  const custom: Sampler = {
    name: 'ddim-by-hand',
    timesteps: (sched, n) => Array.from({ length: n }, (_, k) => Math.round(((sched.numTrainTimesteps - 1) * (n - 1 - k)) / (n - 1))),
    step: ({ sample: x, modelOutput: eps, alphaCumprod: a, prevAlphaCumprod: ap }) => {
      const x0 = tf.div(tf.sub(x, tf.mul(eps, Math.sqrt(1 - a))), Math.sqrt(a)) as tf.Tensor4D;
      return { prevSample: tf.add(tf.mul(x0, Math.sqrt(ap)), tf.mul(eps, Math.sqrt(1 - ap))) as tf.Tensor4D, predOriginalSample: x0 };
    },
  };

  it('and samples Gaussian data correctly', async () => {
    const { samples } = await sample(gaussianDenoiser('epsilon'), custom, { schedule, shape: SHAPE, numInferenceSteps: 50, seed: 3 });
    expectGaussian(samples);
    samples.dispose();
  });
});

describe('deterministic DDIM with the empirical denoiser lands on training points', () => {
  const points = [
    [1.0, 0.5],
    [-0.8, 0.9],
    [0.2, -1.1],
    [-0.5, -0.3],
    [0.9, -0.7],
  ];
  // x̂0 = Σ_k softmax_k(−|x − √ᾱ y_k|² / (2(1−ᾱ))) y_k, then ε̂ from x̂0.
  const empirical: Denoiser = {
    prediction: 'epsilon',
    predict: (x, t) =>
      tf.tidy(() => {
        const a = alphaBar(schedule, t);
        const y = tf.tensor2d(points); // [K, 2]
        const flat = tf.reshape(x, [-1, 1, 2]);
        const d2 = tf.sum(tf.square(tf.sub(flat, tf.mul(tf.reshape(tf.sqrt(a), [-1, 1, 1]), y))), 2); // [B, K]
        const logits = tf.div(tf.neg(d2), tf.mul(tf.reshape(tf.sub(1, a), [-1, 1]), 2));
        const x0 = tf.reshape(tf.matMul(tf.softmax(logits), y), x.shape) as tf.Tensor4D;
        return fromX0('epsilon', x, x0, a);
      }),
  };

  it('every sample is within 1e-2 of a training point', async () => {
    const { samples } = await sample(empirical, ddim(), { schedule, shape: [64, 1, 1, 2], numInferenceSteps: 50, seed: 4 });
    const v = samples.dataSync();
    const hit = new Set<number>();
    for (let b = 0; b < 64; b++) {
      const dists = points.map((p) => Math.hypot(v[2 * b] - p[0], v[2 * b + 1] - p[1]));
      const k = dists.indexOf(Math.min(...dists));
      expect(dists[k]).toBeLessThan(1e-2);
      hit.add(k);
    }
    expect(hit.size).toBeGreaterThan(2);
    samples.dispose();
  });
});

describe('the loop', () => {
  const eps = gaussianDenoiser('epsilon');

  it('gives the same samples for the same seed and different ones for another', async () => {
    const run = async (seed: number) => {
      const { samples } = await sample(eps, ddim({ eta: 0.5 }), { schedule, shape: [4, 1, 1, 2], numInferenceSteps: 10, seed });
      const v = Array.from(samples.dataSync());
      samples.dispose();
      return v;
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
  });

  it('leaks no tensor over 1,000 steps with guidance, thresholding and a multistep sampler', async () => {
    const conditional: Denoiser = {
      prediction: 'epsilon',
      predict: (x, t, cond?: Conditioning) =>
        tf.tidy(() => tf.add(eps.predict(x, t), tf.mul(0.01, tf.reshape(tf.cast(cond!.classLabels!, 'float32'), [-1, 1, 1, 1])))),
    };
    const cond = { classLabels: tf.tensor1d([0, 1, 2, 0], 'int32') };
    const before = tf.memory().numTensors;
    for (const sampler of [ddpm(), dpmSolverPlusPlus2M(), heun(), pndm(), lms(), uniPC({ solverOrder: 3 })]) {
      const steps = sampler.name === 'ddpm' ? 1000 : 100;
      const { samples } = await sample(conditional, sampler, {
        schedule,
        shape: [4, 1, 1, 2],
        numInferenceSteps: steps,
        cond,
        guidance: { guidanceScale: 3, guidanceRescale: 0.5, nullClass: 3 },
        x0Processor: dynamicThreshold({ sampleMaxValue: 2 }),
      });
      samples.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    cond.classLabels.dispose();
  });

  it('the multistep samplers start img2img runs part way and leak nothing', async () => {
    const init = tf.fill([8, 1, 1, 2], 0.5) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (const sampler of [pndm({ skipPrkSteps: true }), pndm(), lms(), uniPC()]) {
      const { samples } = await sample(eps, sampler, { schedule, numInferenceSteps: 20, initImage: init, strength: 0.4, seed: 3 });
      expect(samples.shape).toEqual([8, 1, 1, 2]);
      expect(Array.from(samples.dataSync()).every(Number.isFinite)).toBe(true);
      samples.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    init.dispose();
  });

  it('dynamic thresholding keeps every final sample in [-1, 1] (data mean 2)', async () => {
    // N(2, 0.5²) data lies almost entirely outside [-1, 1]; the last step returns the processed x0.
    const far: Denoiser = {
      prediction: 'epsilon',
      predict: (x, t) =>
        tf.tidy(() => {
          const a = alphaBar(schedule, t);
          return tf.div(tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), 2))), tf.add(tf.mul(a, 0.25), tf.sub(1, a))) as tf.Tensor4D;
        }),
    };
    for (const sampler of [ddpm(), ddim(), euler(), heun(), dpmSolverPlusPlus2M()]) {
      const { samples } = await sample(far, sampler, {
        schedule,
        shape: [64, 2, 2, 1],
        numInferenceSteps: sampler.name === 'ddpm' ? 100 : 20,
        x0Processor: dynamicThreshold({ dynamicThresholdingRatio: 0.9, sampleMaxValue: 3 }),
      });
      const max = Math.max(...Array.from(samples.dataSync(), Math.abs));
      samples.dispose();
      expect(max).toBeLessThanOrEqual(1 + 1e-6);
      expect(max).toBeGreaterThan(0.5);
    }
  });

  it('calls onStep once per step, awaits it, and returns intermediates', async () => {
    const seen: number[] = [];
    const { samples, intermediates, predictions } = await sample(eps, euler(), {
      schedule,
      shape: [2, 1, 1, 2],
      numInferenceSteps: 7,
      returnIntermediates: true,
      onStep: async (i, n, x0) => {
        expect(n).toBe(7);
        expect(x0.shape).toEqual([2, 1, 1, 2]);
        await new Promise((r) => setTimeout(r, 1));
        seen.push(i);
      },
    });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(intermediates.length).toBe(7);
    expect(predictions.length).toBe(7);
    expect(Array.from(intermediates[6].dataSync())).toEqual(Array.from(samples.dataSync()));
    tf.dispose([samples, ...intermediates, ...predictions]);
  });

  it('heun calls the model 2n − 1 times at the right timesteps', async () => {
    const calls: number[] = [];
    const counting: Denoiser = {
      prediction: 'epsilon',
      predict: (x, t) => {
        calls.push(t.dataSync()[0]);
        return eps.predict(x, t);
      },
    };
    const sampler = heun({ timestepSpacing: 'leading', stepsOffset: 1 });
    const ts = sampler.timesteps(schedule, 5);
    const { samples } = await sample(counting, sampler, { schedule, shape: [2, 1, 1, 2], numInferenceSteps: 5 });
    samples.dispose();
    expect(calls).toEqual([ts[0], ts[1], ts[1], ts[2], ts[2], ts[3], ts[3], ts[4], ts[4]].map(Math.fround));
  });

  it('img2img starts from the init image noised to step n − ⌊n·strength⌋', async () => {
    const init = tf.fill(SHAPE, 0.7) as tf.Tensor4D;
    const firstInputs: tf.Tensor4D[] = [];
    const calls: number[] = [];
    const spy: Denoiser = {
      prediction: 'epsilon',
      predict: (x, t) => {
        if (calls.length === 0) firstInputs.push(tf.keep(tf.clone(x)));
        calls.push(t.dataSync()[0]);
        return eps.predict(x, t);
      },
    };
    const sampler = ddim();
    const ts = sampler.timesteps(schedule, 20);
    const { samples } = await sample(spy, sampler, { schedule, numInferenceSteps: 20, initImage: init, strength: 0.3, seed: 5 });
    // ⌊20 · 0.3⌋ = 6 steps, from index 14.
    expect(calls).toEqual(ts.slice(14));
    const a = schedule.alphasCumprod[ts[14]];
    const { mean, std } = stats(firstInputs[0]);
    for (let d = 0; d < 2; d++) {
      expect(Math.abs(mean[d] - Math.sqrt(a) * 0.7)).toBeLessThan((4 * Math.sqrt(1 - a)) / Math.sqrt(B));
      expect(Math.abs(std[d] / Math.sqrt(1 - a) - 1)).toBeLessThan(0.1);
    }
    tf.dispose([samples, init, ...firstInputs]);
  });

  it('names missing options', async () => {
    await expect(sample(eps, ddim(), { schedule, numInferenceSteps: 5 })).rejects.toThrow(/shape/);
    await expect(sample(eps, ddim(), { schedule, shape: [1, 1, 1, 2], numInferenceSteps: 5, strength: 0.5 })).rejects.toThrow(/initImage/);
    await expect(sample({ ...eps, prediction: 'x' as Prediction }, ddim(), { schedule, shape: [1, 1, 1, 2], numInferenceSteps: 5 })).rejects.toThrow(
      /prediction must be one of/,
    );
  });
});
