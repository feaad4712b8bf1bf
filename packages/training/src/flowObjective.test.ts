import * as tf from '@tensorflow/tfjs';
import { MLPDenoiser, UNet, unetPreset } from '@tfjs-diffusion/models';
import { flowMatchEuler, sample } from '@tfjs-diffusion/samplers';
import { createRng, makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { flowDensitySample, flowLossWeights, flowTrainingSigmas, resolveFlowObjective } from './flowObjective.js';
import { diffusionLoss, type PreparedBatch } from './loss.js';
import { createTrainer } from './trainer.js';
import type { TrainableDenoiser } from './types.js';

// diffusers' training_utils (compute_density_for_timestep_sampling, compute_loss_weighting_for_sd3)
// and the SD3 script's sigmas, written out.

describe('the flow-matching objective, as diffusers draws and weights it', () => {
  it('densities: logit-normal is sigmoid(N(mean, std²)), mode is 1 − u − s(cos²(πu/2) − 1 + u), uniform is u', () => {
    const a = createRng(5);
    const got = flowDensitySample({ density: 'logit_normal', logitMean: 0.3, logitStd: 2, modeScale: 0 }, 4, a);
    const b = createRng(5);
    Array.from(got).forEach((u) => expect(u).toBeCloseTo(1 / (1 + Math.exp(-(0.3 + 2 * b.normal()))), 14));
    const m = flowDensitySample({ density: 'mode', logitMean: 0, logitStd: 1, modeScale: 1.29 }, 4, createRng(6));
    const c = createRng(6);
    Array.from(m).forEach((u) => {
      const r = c.next();
      expect(u).toBeCloseTo(1 - r - 1.29 * (Math.cos((Math.PI * r) / 2) ** 2 - 1 + r), 14);
    });
    const d = createRng(7);
    expect(Array.from(flowDensitySample({ density: 'uniform', logitMean: 0, logitStd: 1, modeScale: 0 }, 3, createRng(7)))).toEqual([d.next(), d.next(), d.next()]);
    // The logit-normal's median is sigmoid(mean).
    const many = Array.from(flowDensitySample({ density: 'logit_normal', logitMean: 1, logitStd: 1, modeScale: 0 }, 20001, createRng(1))).sort();
    expect(many[10000]!).toBeCloseTo(1 / (1 + Math.exp(-1)), 1);
  });

  it("σ is the scheduler's training sigma at index ⌊u·T⌋: shift((T − i)/T)", () => {
    expect(Array.from(flowTrainingSigmas([0, 0.5, 0.9999, 1], 1000))).toEqual([1, 0.5, 0.001, 0.001]);
    expect(flowTrainingSigmas([0.5], 1000, 3)[0]).toBeCloseTo((3 * 0.5) / (1 + 2 * 0.5), 14);
  });

  it('weightings: σ⁻² (sigma_sqrt), 2/(π(1 − 2σ + 2σ²)) (cosmap), 1 (none)', () => {
    const w = (k: 'sigma_sqrt' | 'cosmap' | 'none') => Array.from(flowLossWeights(k, [0.5, 0.25]));
    expect(w('sigma_sqrt')).toEqual([4, 16]);
    w('cosmap').forEach((x, i) => expect(x).toBeCloseTo([4 / Math.PI, 2 / (Math.PI * (1 - 0.5 + 0.125))][i]!, 6));
    expect(w('none')).toEqual([1, 1]);
  });

  it('options: defaults, and refusals naming the option', () => {
    expect(resolveFlowObjective()).toEqual({ density: 'logit_normal', logitMean: 0, logitStd: 1, modeScale: 1.29, weighting: 'none', shift: 1 });
    expect(() => resolveFlowObjective({ mode_scale: 1 } as never)).toThrow("did you mean 'flow.modeScale'?");
    expect(() => resolveFlowObjective({ density: 'normal' as never })).toThrow("flow.density must be one of 'logit_normal', 'mode', 'uniform'; got \"normal\"");
    expect(() => resolveFlowObjective({ weighting: 'snr' as never })).toThrow("flow.weighting must be one of 'sigma_sqrt', 'cosmap', 'none'");
    expect(() => resolveFlowObjective({ logitStd: 0 })).toThrow('flow.logitStd must be a number > 0; got 0');
  });

  it('the loss: the model at ((1 − σ) x0 + σ ε, σ·T) against ε − x0, weighted per sample', () => {
    const seen: number[][] = [];
    const model = {
      prediction: 'flow',
      predict: (x: tf.Tensor4D, t: tf.Tensor1D) => {
        seen.push([...x.dataSync(), ...t.dataSync()]);
        return tf.mul(x, 0.5);
      },
    } as unknown as TrainableDenoiser;
    const x0 = [0.4, -1];
    const eps = [1.5, 0.2];
    const sig = [0.25, 0.8];
    const b: PreparedBatch = {
      x0: tf.tensor4d(x0, [2, 1, 1, 1]), noise: tf.tensor4d(eps, [2, 1, 1, 1]), inputNoise: tf.tensor4d(eps, [2, 1, 1, 1]),
      t: tf.tensor1d([250, 800]), alphaCumprod: tf.ones([2]) as tf.Tensor1D, sigma: tf.tensor1d(sig), weights: tf.tensor1d([2, 1]), dropoutSeed: 0,
    };
    const loss = diffusionLoss(model, 'flow', b);
    const xs = x0.map((x, i) => (1 - sig[i]!) * x + sig[i]! * eps[i]!);
    const want = ((0.5 * xs[0]! - (eps[0]! - x0[0]!)) ** 2 * 2 + (0.5 * xs[1]! - (eps[1]! - x0[1]!)) ** 2) / 2;
    expect(loss.dataSync()[0]).toBeCloseTo(want, 5);
    seen[0]!.forEach((v, i) => expect(v).toBeCloseTo([...xs, 250, 800][i]!, 5));
    expect(() => diffusionLoss(model, 'epsilon', b)).toThrow("a batch with flow sigmas for prediction 'epsilon'");
    tf.dispose([loss, b.x0, b.noise, b.inputNoise, b.t, b.alphaCumprod, b.sigma!, b.weights]);
  });
});

describe('createTrainer with prediction flow', () => {
  const schedule = makeSchedule();
  const data = { next: () => ({ images: tf.zeros([4, 1, 1, 2]) as tf.Tensor4D }) };

  it('refuses what does not apply, naming it, before making any tensor', async () => {
    const before = tf.memory().numTensors;
    const eps = new MLPDenoiser({ dim: 2, hidden: 8, layers: 1 });
    const flow = new MLPDenoiser({ dim: 2, hidden: 8, layers: 1, predictionType: 'flow' });
    const made = tf.memory().numTensors;
    await expect(createTrainer({ denoiser: eps, schedule, data, flow: {} })).rejects.toThrow("flow options are for prediction 'flow'; the denoiser predicts 'epsilon'");
    await expect(createTrainer({ denoiser: flow, schedule, data, regularizers: { minSnrGamma: 5 } })).rejects.toThrow("regularizers.minSnrGamma does not apply to prediction 'flow'");
    await expect(createTrainer({ denoiser: flow, schedule, data, flow: { weigthing: 'cosmap' } as never })).rejects.toThrow("did you mean 'flow.weighting'?");
    expect(tf.memory().numTensors).toBe(made);
    eps.dispose();
    flow.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a class-conditional U-Net the same way: mode density, cosmap weighting, shift 3', async () => {
    const before = tf.memory().numTensors;
    const config = unetPreset('mnist-tiny', { sampleSize: 8, blockOutChannels: [8, 16], attentionResolutions: [4], normNumGroups: 4, numClasses: 3, predictionType: 'flow' });
    const model = new UNet(config, { seed: 0 });
    const val = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const trainer = await createTrainer({
      denoiser: model, schedule, data: { next: () => ({ images: tf.randomNormal([4, 8, 8, 1]) as tf.Tensor4D, labels: [0, 1, 2, 0] }) },
      validation: { images: val, timesteps: [0, 999] }, regularizers: { pUncond: 0.25 }, flow: { density: 'mode', weighting: 'cosmap', shift: 3 },
    });
    val.dispose();
    const r = await trainer.trainStep();
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
    const ev = await trainer.evaluate();
    expect(ev.perTimestep.map((p) => p.t)).toEqual([0, 999]);
    expect(ev.perTimestep.every((p) => Number.isFinite(p.loss))).toBe(true);
    await trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('fit on a 2-D mixture (MLP) makes FlowMatchEuler samples land on it', async () => {
    const rng = createRng(0);
    const batch = (n: number) => {
      const xs = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const k = rng.nextInt(2) ? 1 : -1;
        xs[2 * i] = k + 0.1 * rng.normal();
        xs[2 * i + 1] = 0.5 * k + 0.1 * rng.normal();
      }
      return tf.tensor4d(xs, [n, 1, 1, 2]);
    };
    const denoiser = new MLPDenoiser({ dim: 2, hidden: 64, layers: 2, predictionType: 'flow' });
    const trainer = await createTrainer({
      denoiser, schedule, data: { next: () => ({ images: batch(64) }) }, validation: { images: batch(128), timesteps: [99, 499, 899] },
      learningRate: { schedule: 'cosine', peak: 3e-3, warmupSteps: 20, totalSteps: 250 }, flow: { density: 'logit_normal', weighting: 'none' },
    });
    const { validation } = await trainer.fit({ steps: 250, every: { validate: 250 } });
    // v* = E[ε − x0 | x_σ]: at σ = 0.9 little of x0 is known, so the loss stays near E‖ε − x0‖² minus what x_σ tells.
    expect(validation.at(-1)!.loss).toBeLessThan(1.5);
    const { samples } = await sample(denoiser, flowMatchEuler(), { schedule, shape: [256, 1, 1, 2], numInferenceSteps: 25, seed: 1 });
    const xs = await samples.data();
    let near = 0;
    for (let i = 0; i < 256; i++) if (Math.hypot(Math.abs(xs[2 * i]!) - 1, Math.abs(xs[2 * i + 1]!) - 0.5) < 0.3) near++;
    let right = 0;
    for (let i = 0; i < 256; i++) if (xs[2 * i]! > 0) right++;
    expect(near).toBeGreaterThan(0.8 * 256);
    expect(right).toBeGreaterThan(0.3 * 256); // both modes, not one
    expect(right).toBeLessThan(0.7 * 256);
    samples.dispose();
    await trainer.dispose();
    denoiser.dispose();
  }, 300_000);
});
