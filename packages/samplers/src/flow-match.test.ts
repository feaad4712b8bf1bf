import * as tf from '@tensorflow/tfjs';
import { createRng, flowSigmas, makeSchedule, type NoiseSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { ddim } from './ddim.js';
import { euler } from './euler.js';
import { flowMatchEuler } from './flow-match-euler.js';
import { flowMatchHeun } from './flow-match-heun.js';
import { fromDiffusersConfig } from './from-diffusers-config.js';
import { predictX0 } from './formulas.js';
import { sample } from './sample.js';
import type { Denoiser } from './types.js';

const schedule = makeSchedule(); // a flow sampler reads only numTrainTimesteps (1000)
const T = 1000;

/**
 * The exact flow of Gaussian data x0 ~ N(m, s²) (per element): with x_σ = (1 − σ) x0 + σ ε,
 * V = (1−σ)² s² + σ², r = x − (1−σ) m, E[x0 | x] = m + (1−σ) s² r / V, E[ε | x] = σ r / V,
 * and the optimal velocity v* = E[ε − x0 | x_σ]. Its ODE carries noise z at σ = 1 to m + s z at σ = 0.
 */
function gaussianFlow(m: number, s: number, calls: number[] = []): Denoiser {
  return {
    prediction: 'flow',
    predict(x, t) {
      return tf.tidy(() => {
        const sigma = tf.reshape(tf.div(t, T), [-1, 1, 1, 1]);
        const one = tf.sub(1, sigma);
        const V = tf.add(tf.mul(tf.square(one), s * s), tf.square(sigma));
        const r = tf.sub(x, tf.mul(one, m));
        const e0 = tf.add(m, tf.div(tf.mul(tf.mul(one, s * s), r), V));
        const eps = tf.div(tf.mul(sigma, r), V);
        calls.push(t.dataSync()[0]!);
        return tf.sub(eps, e0) as tf.Tensor4D;
      });
    },
  };
}

async function values(p: Promise<{ samples: tf.Tensor4D }>): Promise<Float32Array> {
  const { samples } = await p;
  const v = samples.dataSync() as Float32Array;
  samples.dispose();
  return v;
}

const meanStd = (v: ArrayLike<number>) => {
  const a = Array.from(v);
  const mean = a.reduce((x, y) => x + y, 0) / a.length;
  return { mean, std: Math.sqrt(a.reduce((x, y) => x + (y - mean) ** 2, 0) / a.length) };
};

describe('flow-matching samplers on Gaussian data (closed-form velocity)', () => {
  const [m, s] = [0.7, 0.4];
  const shape: [number, number, number, number] = [1000, 2, 2, 1];

  it('FlowMatchEuler at 100 steps draws N(m, s²)', async () => {
    const before = tf.memory().numTensors;
    const v = await values(sample(gaussianFlow(m, s), flowMatchEuler(), { schedule, numInferenceSteps: 100, shape, seed: 3 }));
    const { mean, std } = meanStd(v);
    expect(mean).toBeCloseTo(m, 1);
    expect(Math.abs(mean - m)).toBeLessThan(0.03); // 4000 draws: the sample mean's sd is s/√4000 ≈ 0.006
    expect(Math.abs(std - s)).toBeLessThan(0.02);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('follows the exact transport z → m + s z; Heun converges faster than Euler', async () => {
    const noise = tf.randomNormal([200, 1, 1, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const z = noise.dataSync();
    const err = async (sampler: ReturnType<typeof flowMatchEuler>, n: number) => {
      const v = await values(sample(gaussianFlow(m, s), sampler, { schedule, numInferenceSteps: n, noise }));
      return Math.max(...Array.from(v, (x, i) => Math.abs(x - (m + s * z[i]!))));
    };
    const euler10 = await err(flowMatchEuler(), 10);
    const heun10 = await err(flowMatchHeun(), 10);
    const euler100 = await err(flowMatchEuler(), 100);
    expect(euler100).toBeLessThan(euler10 / 5); // first order
    expect(heun10).toBeLessThan(euler10 / 5);
    expect(euler100).toBeLessThan(0.03);
    expect(await err(flowMatchHeun({ shift: 3 }), 10)).toBeLessThan(euler10);
    expect(await err(flowMatchEuler({ useDynamicShifting: true, mu: 1.2 }), 100)).toBeLessThan(0.05);
    noise.dispose();
  });
});

describe('one flow step, as diffusers writes it', () => {
  const run = async (sampler: ReturnType<typeof flowMatchEuler>, n: number, out: number, x1: number, seed = 0) => {
    const d: Denoiser = { prediction: 'flow', predict: (x) => tf.fill(x.shape, out) as tf.Tensor4D };
    const noise = tf.fill([1, 1, 1, 1], x1) as tf.Tensor4D;
    const r = await sample(d, sampler, { schedule, numInferenceSteps: n, noise, seed, returnIntermediates: true });
    const got = r.intermediates.map((t) => t.dataSync()[0]!);
    tf.dispose([r.samples, noise, ...r.intermediates, ...r.predictions]);
    return got;
  };
  const ddpmAt = (x: number, sig: number) => x / Math.sqrt((1 - sig) ** 2 + sig ** 2);

  it('Euler: x ← x + (σ_next − σ) v, every sample DDPM-scaled in the loop', async () => {
    const sig = flowSigmas(3, { shift: 3 }).sigmas;
    let x = 0.9;
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      x += (sig[i + 1]! - sig[i]!) * 0.25;
      want.push(ddpmAt(x, sig[i + 1]!));
    }
    const got = await run(flowMatchEuler({ shift: 3 }), 3, 0.25, 0.9);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
  });

  it('stochastic sampling: x ← (1 − σ_next) (x − σ v) + σ_next ε′', async () => {
    const sig = flowSigmas(2, {}).sigmas;
    const eps = tf.tidy(() => tf.randomNormal([1, 1, 1, 1], 0, 1, 'float32', createRng(0).nextSeed()).dataSync()[0]!);
    // The run's first draw is ε′ of step 0 (x_T is given as noise).
    const x1 = (1 - sig[1]!) * (0.9 - sig[0]! * 0.25) + sig[1]! * eps;
    const got = await run(flowMatchEuler({ stochasticSampling: true }), 2, 0.25, 0.9);
    expect(got[0]).toBeCloseTo(ddpmAt(x1, sig[1]!), 5);
  });

  it('Heun: 2n − 1 model calls, at σ·T', async () => {
    const calls: number[] = [];
    const noise = tf.fill([1, 1, 1, 1], 0.5) as tf.Tensor4D;
    const r = await sample(gaussianFlow(0, 1, calls), flowMatchHeun({ shift: 2 }), { schedule, numInferenceSteps: 3, noise });
    const t = flowSigmas(3, { shift: 2 }).timesteps;
    calls.forEach((c, i) => expect(c).toBeCloseTo([t[0]!, t[1]!, t[1]!, t[2]!, t[2]!][i]!, 3));
    expect(calls).toHaveLength(5);
    // N(0, 1) data: v(x, σ) = (2σ − 1)/((1−σ)² + σ²) x; Heun's steps by hand, the last one Euler's.
    const f = (x: number, sg: number) => ((2 * sg - 1) / ((1 - sg) ** 2 + sg ** 2)) * x;
    const sg = flowSigmas(3, { shift: 2 }).sigmas;
    let x = 0.5;
    for (let i = 0; i < 3; i++) {
      const dt = sg[i + 1]! - sg[i]!;
      const e = x + dt * f(x, sg[i]!);
      x = sg[i + 1] === 0 ? e : x + (dt * (f(x, sg[i]!) + f(e, sg[i + 1]!))) / 2;
    }
    expect(r.samples.dataSync()[0]).toBeCloseTo(x, 5);
    tf.dispose([r.samples, noise]);
  });
});

describe('flow sampling through sample(): img2img and guidance', () => {
  it("img2img starts at ⌊n − n·strength⌋ from scale_noise σ ε + (1 − σ) x0, the model seeing x_σ and σ·T", async () => {
    const seen: { x: number; t: number }[] = [];
    const d: Denoiser = {
      prediction: 'flow',
      predict(x, t) {
        seen.push({ x: x.dataSync()[0]!, t: t.dataSync()[0]! });
        return tf.zerosLike(x);
      },
    };
    const initImage = tf.fill([1, 1, 1, 1], 0.6) as tf.Tensor4D;
    const noise = tf.fill([1, 1, 1, 1], -1.5) as tf.Tensor4D;
    const r = await sample(d, flowMatchEuler({ shift: 3 }), { schedule, numInferenceSteps: 10, strength: 0.35, initImage, noise });
    const { sigmas, timesteps } = flowSigmas(10, { shift: 3 });
    expect(seen).toHaveLength(4); // start = int(10 − 3.5) = 6
    expect(seen[0]!.t).toBeCloseTo(timesteps[6]!, 3);
    expect(seen[0]!.x).toBeCloseTo(sigmas[6]! * -1.5 + (1 - sigmas[6]!) * 0.6, 5);
    // v = 0 keeps x_σ: the result is the noised image itself.
    expect(r.samples.dataSync()[0]).toBeCloseTo(sigmas[6]! * -1.5 + (1 - sigmas[6]!) * 0.6, 5);
    tf.dispose([r.samples, initImage, noise]);
  });

  it('classifier-free guidance combines velocities: v_u + w (v_c − v_u)', async () => {
    // v = class + 1 (class 2 is the null class): one Euler step from σ = 1 to 0 is x − v.
    const d: Denoiser = {
      prediction: 'flow',
      numClasses: 2,
      predict: (x, _t, cond) => tf.tidy(() => tf.add(tf.mul(tf.zerosLike(x), 0), tf.reshape(tf.add(tf.cast(cond!.classLabels!, 'float32'), 1), [-1, 1, 1, 1]))) as tf.Tensor4D,
    };
    const noise = tf.fill([2, 1, 1, 1], 1) as tf.Tensor4D;
    const cond = { classLabels: tf.tensor1d([0, 1], 'int32') };
    const r = await sample(d, flowMatchEuler(), { schedule, numInferenceSteps: 1, noise, cond, guidance: { guidanceScale: 4, nullClass: 2 } });
    const w = 4;
    expect(Array.from(r.samples.dataSync())).toEqual([1 - (3 + w * (1 - 3)), 1 - (3 + w * (2 - 3))]);
    tf.dispose([r.samples, noise, cond.classLabels]);
  });
});

describe('flow models and the other samplers', () => {
  const flowModel: Denoiser = { prediction: 'flow', predict: (x) => tf.zerosLike(x) };
  const epsModel: Denoiser = { prediction: 'epsilon', predict: (x) => tf.zerosLike(x) };
  const opts = { schedule: schedule as NoiseSchedule, numInferenceSteps: 2, shape: [1, 1, 1, 1] as [number, number, number, number] };

  it('refuse each other clearly, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    await expect(sample(flowModel, ddim(), opts)).rejects.toThrow("ddim cannot sample a 'flow' model: its timesteps follow the beta schedule");
    await expect(sample(flowModel, euler(), opts)).rejects.toThrow('use a flow-matching sampler (flowMatchEuler, flowMatchHeun)');
    await expect(sample(epsModel, flowMatchEuler(), opts)).rejects.toThrow("flow-euler samples flow-matching models (prediction 'flow'); this denoiser predicts 'epsilon'");
    await expect(sample(epsModel, flowMatchHeun(), opts)).rejects.toThrow('flow-heun samples flow-matching models');
    expect(() => tf.tidy(() => predictX0('flow', tf.zeros([1, 1, 1, 1]), tf.zeros([1, 1, 1, 1]), 0.5))).toThrow("predictX0: a 'flow' output is the velocity");
    expect(tf.memory().numTensors).toBe(before);
  });

  it('factories refuse bad options, naming them', () => {
    expect(() => flowMatchEuler({ useDynamicShifting: true })).toThrow('mu is required when useDynamicShifting is true');
    expect(() => flowMatchEuler({ use_karras_sigmas: true } as never)).toThrow("did you mean 'useKarrasSigmas'?");
    expect(() => flowMatchHeun({ timestepSpacing: 'trailing' } as never)).toThrow("flowMatchHeun: unknown option 'timestepSpacing'");
    expect(() => flowMatchEuler({ stochasticSampling: 1 } as never)).toThrow('stochasticSampling must be true or false; got 1');
  });
});

describe("fromDiffusersConfig on flow-matching scheduler_config.json", () => {
  it("SD3's config (shift 3.0): the levels of set_timesteps, prediction 'flow'", () => {
    const r = fromDiffusersConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler', _diffusers_version: '0.29.0', num_train_timesteps: 1000, shift: 3.0 });
    expect(r.prediction).toBe('flow');
    expect(r.sampler.flow).toBe(true);
    expect(r.sampler.timesteps(r.schedule, 28)).toEqual(flowSigmas(28, { shift: 3 }).timesteps);
    const t = r.sampler.timesteps(r.schedule, 4);
    const sMin = Math.fround(0.003 / 1.002);
    const lin = [1, 1 - (1 - sMin) / 3, 1 - (2 * (1 - sMin)) / 3, sMin];
    t.forEach((x, i) => expect(x).toBeCloseTo((1000 * 3 * lin[i]!) / (1 + 2 * lin[i]!), 6));
  });

  it("Flux's config needs mu, named; imageSeqLen computes it with the config's base and max", () => {
    const flux = {
      _class_name: 'FlowMatchEulerDiscreteScheduler', base_image_seq_len: 256, base_shift: 0.5, max_image_seq_len: 4096, max_shift: 1.15,
      num_train_timesteps: 1000, shift: 3.0, use_dynamic_shifting: true,
    };
    expect(() => fromDiffusersConfig(flux)).toThrow('FlowMatchEulerDiscreteScheduler: use_dynamic_shifting is true, so fromDiffusersConfig needs { mu }');
    const mu = 0.5 + (0.65 * (4096 - 256)) / 3840; // a 1024² image: 64·64 latent tokens
    const byMu = fromDiffusersConfig(flux, { mu });
    const bySeq = fromDiffusersConfig(flux, { imageSeqLen: 4096 });
    const want = flowSigmas(20, { useDynamicShifting: true, mu }).timesteps;
    expect(byMu.sampler.timesteps(byMu.schedule, 20)).toEqual(want);
    bySeq.sampler.timesteps(bySeq.schedule, 20).forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 9));
    expect(() => fromDiffusersConfig(flux, { mu: 1, imageSeqLen: 10 })).toThrow('pass mu or imageSeqLen, not both');
  });

  it('the other keys, and the Heun class', () => {
    const r = fromDiffusersConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler', shift_terminal: 0.1, use_beta_sigmas: true, invert_sigmas: true, beta_start: 0.1 });
    expect(r.sampler.timesteps(r.schedule, 5)).toEqual(flowSigmas(5, { shiftTerminal: 0.1, useBetaSigmas: true, invertSigmas: true }).timesteps);
    expect(r.ignoredKeys).toEqual(['beta_start']);
    expect(() => fromDiffusersConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler', time_shift_type: 'log' })).toThrow("time_shift_type must be one of 'exponential', 'linear'; got 'log'");
    const h = fromDiffusersConfig({ _class_name: 'FlowMatchHeunDiscreteScheduler', shift: 3.0 });
    expect(h.prediction).toBe('flow');
    expect(h.sampler.timesteps(h.schedule, 5)).toEqual(flowSigmas(5, { shift: 3 }).timesteps);
    expect(h.sampler.name).toBe('flow-heun');
  });
});
