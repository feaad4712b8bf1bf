import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { slicePlain, type PlainBatch } from './loss.js';
import { createReplica, replicaInit, replicaOf, shardRanges } from './replica.js';
import { workerThreads } from './workers.js';
import { ToyDenoiser } from './testing/toy.js';

describe('sharding', () => {
  it('splits a batch into near-equal contiguous shards', () => {
    expect(shardRanges(10, 3)).toEqual([[0, 4], [4, 7], [7, 10]]);
    expect(shardRanges(2, 4)).toEqual([[0, 1], [1, 2]]);
  });

  it('the shard-size-weighted mean of shard losses and gradients equals the whole batch', () => {
    const d = new ToyDenoiser('v', 1);
    const n = 10;
    const rnd = (k: number, s: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(i * 12.9898 + s) * 1.3);
    const batch: PlainBatch = {
      shape: [n, 1, 1, 2],
      images: rnd(2 * n, 1),
      noise: rnd(2 * n, 2),
      inputNoise: rnd(2 * n, 3),
      t: Int32Array.from({ length: n }, (_, i) => i * 9),
      alphaCumprod: Float32Array.from({ length: n }, (_, i) => 0.95 - i * 0.09),
      weights: Float32Array.from({ length: n }, (_, i) => 0.5 + i / n),
      labels: Int32Array.from({ length: n }, (_, i) => i % 3),
      dropoutSeed: 5,
    };
    const r = replicaOf(d, 'v');
    const whole = r.lossAndGrads(batch);
    const ranges = shardRanges(n, 3);
    const parts = ranges.map(([a, b]) => ({ w: (b - a) / n, ...r.lossAndGrads(slicePlain(batch, a, b)) }));
    const loss = parts.reduce((s, p) => s + p.w * p.loss, 0);
    expect(loss).toBeCloseTo(whole.loss, 5);
    for (const name of Object.keys(whole.grads)) {
      const want = whole.grads[name].dataSync();
      const got = new Float64Array(want.length);
      for (const p of parts) p.grads[name].dataSync().forEach((g, i) => (got[i] += p.w * g));
      want.forEach((g, i) => expect(got[i]).toBeCloseTo(g, 4));
    }
    tf.dispose([whole.grads, ...parts.map((p) => p.grads)]);
    d.dispose();
  });
});

describe('replicas', () => {
  it('are rebuilt by createModel from the config kind, and a model without one is refused by name', async () => {
    const { MLPDenoiser } = await import('@tfjs-diffusion/models');
    const m = new MLPDenoiser({ dim: 2, hidden: 8, layers: 1, predictionType: 'v' }, { seed: 1 });
    const init = replicaInit(m, 'v', ['in.*']);
    expect(init.model.kind).toBe('mlp');
    const r = await createReplica(structuredClone(init));
    expect(r.parameters().map((p) => p.name)).toEqual(m.parameters().map((p) => p.name));
    expect(r.trainable().some((p) => p.name.startsWith('in.'))).toBe(false);
    await expect(createReplica({ ...init, prediction: 'epsilon' })).rejects.toThrow(/predicts 'v', the trainer 'epsilon'/);
    const toy = new ToyDenoiser('epsilon', 1);
    expect(() => replicaInit(toy, 'epsilon', [])).toThrow(/no config with a 'kind'/);
    expect(() => workerThreads({ threads: 0 })).toThrow(/threads must be a positive integer; got 0/);
    for (const x of [m, toy]) x.dispose();
    r.parameters().forEach((p) => p.variable.dispose());
  });
});

describe('parallel training', () => {
  it('a trainer on two threads takes the same steps as one on a single thread', async () => {
    const { MLPDenoiser } = await import('@tfjs-diffusion/models');
    const { makeSchedule } = await import('@tfjs-diffusion/schedules');
    const { createTrainer } = await import('./trainer.js');
    const { mixtureSource } = await import('./testing/toy.js');
    const schedule = makeSchedule();
    const make = (parallel?: { threads: number }) =>
      createTrainer({
        denoiser: new MLPDenoiser({ dim: 2, hidden: 16, layers: 1, numClasses: 2 }, { seed: 4 }),
        schedule,
        data: mixtureSource(7, 10),
        learningRate: 1e-2,
        regularizers: { ema: true, clipGradNorm: 1, pUncond: 0.2 },
        freeze: ['in.*'],
        seed: 11,
        parallel: parallel && workerThreads(parallel),
      });
    const single = await make();
    const par = await make({ threads: 2 });
    try {
      for (let s = 0; s < 3; s++) {
        const a = await single.trainStep();
        const b = await par.trainStep();
        expect(b.loss).toBeCloseTo(a.loss, 5);
        expect(b.gradNorm).toBeCloseTo(a.gradNorm, 4);
      }
      const wa = single.denoiser.parameters();
      const wb = par.denoiser.parameters();
      wa.forEach((p, i) => {
        const x = p.variable.dataSync();
        wb[i]!.variable.dataSync().forEach((v, k) => expect(v).toBeCloseTo(x[k]!, 5));
      });
    } finally {
      await single.dispose();
      await par.dispose();
    }
  });
});

describe('micro-batches', () => {
  it('a step in slices of 3 equals the whole batch of 10', async () => {
    const { makeSchedule } = await import('@tfjs-diffusion/schedules');
    const { createTrainer } = await import('./trainer.js');
    const { mixtureSource } = await import('./testing/toy.js');
    const make = (microBatch: number) =>
      createTrainer({ denoiser: new ToyDenoiser('epsilon', 2), schedule: makeSchedule(), data: mixtureSource(3, 10), learningRate: 1e-2, seed: 5, microBatch });
    const whole = await make(1000);
    const sliced = await make(3);
    for (let s = 0; s < 3; s++) {
      const a = await whole.trainStep();
      const b = await sliced.trainStep();
      expect(b.loss).toBeCloseTo(a.loss, 5);
      expect(b.gradNorm).toBeCloseTo(a.gradNorm, 5);
    }
    const before = tf.memory().numTensors;
    await sliced.trainStep();
    expect(tf.memory().numTensors).toBe(before);
    await whole.dispose();
    await sliced.dispose();
  });
});
