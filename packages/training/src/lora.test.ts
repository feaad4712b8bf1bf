import * as tf from '@tensorflow/tfjs';
import { addLora, createModel, MLPDenoiser, UNet, loraTrainable } from '@tfjs-diffusion/models';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { createTrainer, type TrainerOptions } from './index.js';
import { workerThreads } from './node.js';
import { mixtureSource } from './testing/toy.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const schedule = makeSchedule({ numTrainTimesteps: 100, betaSchedule: 'linear', betaStart: 1e-3, betaEnd: 0.2 });
const LORA = { rank: 2, alpha: 4, dropout: 0.1, targets: ['fc1', 'fc2', 'out'] };
const mlp = () => new MLPDenoiser({ dim: 2, hidden: 16, layers: 2, numClasses: 2 }, { seed: 5 });
const options = (denoiser: TrainerOptions['denoiser']): TrainerOptions => ({
  denoiser, schedule, data: mixtureSource(7, 16), learningRate: 1e-2, seed: 3, regularizers: { ema: { decay: 0.9 }, clipGradNorm: 1 },
});
const snapshot = (ps: { name: string; variable: tf.Variable }[]) => Object.fromEntries(ps.map((p) => [p.name, Array.from(p.variable.dataSync())]));

describe('LoRA training', () => {
  it('trains only the adapter: the base weights stay bit for bit, the optimizer and EMA hold the adapter alone', async () => {
    const m = mlp();
    const base = snapshot(m.parameters());
    const a = addLora(m, LORA);
    const t = await createTrainer(options(loraTrainable(m)));
    for (let i = 0; i < 4; i++) await t.trainStep();
    expect(snapshot(m.parameters())).toEqual(base);
    expect(a.pairs.every((p) => tf.tidy(() => tf.max(tf.abs(p.B)).dataSync()[0]!) > 0)).toBe(true);
    const adam = t.optimizer.state();
    const names = a.parameters().map((p) => p.name).sort();
    expect(Object.keys(adam.m).sort()).toEqual(names);
    expect(Object.keys(t.ema!.state().shadow).sort()).toEqual(names);
    const floats = (s: Record<string, { data: Float32Array }>) => Object.values(s).reduce((n, x) => n + x.data.length, 0);
    // Adam keeps m and v per trained float: here 2 × the adapter's, against 2 × the whole model's.
    expect(floats(adam.m) + floats(adam.v)).toBe(2 * a.numParameters());
    expect(a.numParameters()).toBeLessThan(m.numParameters() / 4);
    const ck = t.checkpoint();
    expect(Object.keys(ck.model).sort()).toEqual(names);
    expect((ck.state.config.model as { lora: unknown[] }).lora).toHaveLength(1);
    // A checkpoint of adapters is never taken for a model.
    expect(() => createModel(ck.state.config.model as never)).toThrow(/unknown option 'lora'/);
    await t.dispose();
    m.dispose();
  });

  it('a resumed LoRA run (adapter checkpoint, new model and adapter) equals an uninterrupted one, bit for bit', async () => {
    const whole = mlp();
    const a = addLora(whole, LORA);
    const t = await createTrainer(options(loraTrainable(whole)));
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) losses.push((await t.trainStep()).loss);

    const first = mlp();
    addLora(first, LORA);
    const t1 = await createTrainer(options(loraTrainable(first)));
    for (let i = 0; i < 3; i++) await t1.trainStep();
    const files = encodeCheckpoint(t1.checkpoint());
    await t1.dispose();
    first.dispose();

    const second = mlp();
    const b = addLora(second, LORA);
    const t2 = await createTrainer(options(loraTrainable(second)));
    await t2.restore(decodeCheckpoint(files, 'mem'));
    const resumed: number[] = [];
    for (let i = 0; i < 3; i++) resumed.push((await t2.trainStep()).loss);
    expect(resumed).toEqual(losses.slice(3));
    expect(snapshot(b.parameters())).toEqual(snapshot(a.parameters()));
    expect(t2.ema!.state().shadow).toEqual(t.ema!.state().shadow);
    await Promise.all([t.dispose(), t2.dispose()]);
    [whole, second].forEach((q) => q.dispose());
  });

  it('trains a U-Net adapter on conv layers, and refuses worker threads (they would not hold the base weights)', async () => {
    const u = new UNet({ sampleSize: 8, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4 });
    const a = addLora(u, { rank: 2, targets: ['conv1', 'conv2'] });
    const images = () => tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = await createTrainer({ denoiser: loraTrainable(u), schedule, data: { next: () => ({ images: images() }) }, learningRate: 1e-2 });
    const r = await t.trainStep();
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(t.trainable().map((p) => p.name)).toEqual(a.parameters().map((p) => p.name));
    await t.dispose();
    await expect(createTrainer({ denoiser: loraTrainable(u), schedule, data: { next: () => ({ images: images() }) }, parallel: workerThreads({ threads: 2 }) }))
      .rejects.toThrow(/parallel: LoRA adapters train on one thread/);
    u.dispose();
  });
});
