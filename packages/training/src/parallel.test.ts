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
      cond: { classLabels: { data: Int32Array.from({ length: n }, (_, i) => i % 3), shape: [n] } },
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

describe('parallel validation', () => {
  it('on two threads gives bit for bit the loss one thread gives, raw and EMA, and the workers keep the raw weights', async () => {
    const { MLPDenoiser } = await import('@tfjs-diffusion/models');
    const { makeSchedule } = await import('@tfjs-diffusion/schedules');
    const { createTrainer } = await import('./trainer.js');
    const { mixtureSource } = await import('./testing/toy.js');
    const schedule = makeSchedule();
    const v = mixtureSource(3, 64).next();
    // 64 rows in slices of 24 at 3 timesteps: 9 items, so the threads get 5 and 4.
    const validation = { images: v.images, labels: v.labels, timesteps: 3, batchSize: 24 };
    const denoiser = new MLPDenoiser({ dim: 2, hidden: 16, layers: 1, numClasses: 2 }, { seed: 4 });
    const common = { schedule, learningRate: 5e-2, validation, seed: 11 };
    const par = await createTrainer({
      ...common, denoiser, data: mixtureSource(7, 10), regularizers: { ema: { decay: 0.5 }, clipGradNorm: 1 }, parallel: workerThreads({ threads: 2 }),
    });
    // The same denoiser and set on one thread: evaluate reads only those.
    const solo = await createTrainer({ ...common, denoiser, data: mixtureSource(7, 10) });
    try {
      for (let s = 0; s < 3; s++) await par.trainStep();
      const want = await solo.evaluate();
      const before = tf.memory().numTensors;
      const got = await par.evaluate();
      expect(got).toEqual(want);
      const wantEma = await par.ema!.withAveraged(() => solo.evaluate());
      expect(wantEma.loss).not.toBe(want.loss);
      expect(await par.evaluate({ useEma: true })).toEqual(wantEma);
      // and the raw loss again once the EMA is swapped out (the workers were synced back)
      expect(await par.evaluate()).toEqual(want);
      expect(tf.memory().numTensors).toBe(before);
      // After the EMA evaluation the workers are back on the raw weights: the next step matches one thread's.
      const ck = par.checkpoint();
      const next = await par.trainStep();
      const again = await createTrainer({ ...common, denoiser: new MLPDenoiser({ dim: 2, hidden: 16, layers: 1, numClasses: 2 }, { seed: 9 }), data: mixtureSource(7, 10), regularizers: { ema: { decay: 0.5 }, clipGradNorm: 1 } });
      await again.restore(ck);
      const ref = await again.trainStep();
      expect(next.loss).toBeCloseTo(ref.loss, 5);
      await again.dispose();
      again.denoiser.parameters().forEach((p) => p.variable.dispose());
      await expect(solo.evaluate({ useEma: true })).rejects.toThrow(/useEma needs regularizers.ema/);
    } finally {
      await par.dispose();
      await solo.dispose();
      denoiser.dispose();
      tf.dispose(v.images);
    }
  });
});

describe('parallel resume', () => {
  it('a two-thread run resumed from its checkpoint ends bit for bit where the uninterrupted one does, validations between steps included', async () => {
    const { MLPDenoiser } = await import('@tfjs-diffusion/models');
    const { makeSchedule } = await import('@tfjs-diffusion/schedules');
    const { createTrainer } = await import('./trainer.js');
    const { mixtureSource } = await import('./testing/toy.js');
    const schedule = makeSchedule();
    const v = mixtureSource(3, 16).next();
    const make = (seed: number) =>
      createTrainer({
        denoiser: new MLPDenoiser({ dim: 2, hidden: 16, layers: 1, numClasses: 2 }, { seed }),
        schedule,
        data: mixtureSource(7, 10),
        learningRate: 5e-2,
        regularizers: { ema: { decay: 0.5 }, clipGradNorm: 0.1, pUncond: 0.2 },
        validation: { images: v.images, labels: v.labels, timesteps: 2 },
        seed: 11,
        parallel: workerThreads({ threads: 2 }),
      });
    const a = await make(4);
    const b = await make(5);
    try {
      await a.trainStep();
      await a.trainStep();
      const ck = a.checkpoint();
      await a.evaluate({ useEma: true });
      const clipped: number[] = [];
      for (let s = 0; s < 3; s++) clipped.push((await a.trainStep()).gradNorm);
      expect(Math.max(...clipped)).toBeGreaterThan(0.1); // the clip acted
      await b.restore(ck);
      for (let s = 0; s < 3; s++) await b.trainStep();
      const end = (t: typeof a) => t.checkpoint();
      const ea = end(a);
      const eb = end(b);
      for (const name of Object.keys(ea.model)) {
        expect(Array.from(eb.model[name]!.data)).toEqual(Array.from(ea.model[name]!.data));
        expect(Array.from(eb.ema![name]!.data)).toEqual(Array.from(ea.ema![name]!.data));
      }
      expect(await b.evaluate()).toEqual(await a.evaluate());
    } finally {
      for (const t of [a, b]) {
        await t.dispose();
        t.denoiser.parameters().forEach((p) => p.variable.dispose());
      }
      tf.dispose(v.images);
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
