import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NonFiniteError } from '@tfjs-diffusion/regularizers';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { readModelWeights, resumeTrainer, saveCheckpoint, jsonlWriter } from './node.js';
import { mixtureSource, ToyDenoiser } from './testing/toy.js';
import { createTrainer, type TrainerOptions } from './index.js';

const schedule = makeSchedule({ numTrainTimesteps: 100, betaSchedule: 'linear', betaStart: 1e-3, betaEnd: 0.2 });

function options(denoiser: ToyDenoiser, extra: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    denoiser,
    schedule,
    data: mixtureSource(7, 64),
    learningRate: { peak: 3e-3, warmupSteps: 5 },
    seed: 11,
    ...extra,
  };
}

const snapshot = (d: ToyDenoiser) => Object.fromEntries(d.parameters().map((p) => [p.name, Float32Array.from(p.variable.dataSync())]));

describe('createTrainer', () => {
  it('the loss falls on a 2-D Gaussian mixture, and the validation loss with it', async () => {
    const d = new ToyDenoiser('epsilon', 1);
    const src = mixtureSource(99, 256);
    const v = src.next();
    const trainer = await createTrainer(options(d, { validation: { images: v.images, labels: v.labels, timesteps: 8 } }));
    tf.dispose(v.images);
    const dir = mkdtempSync(join(tmpdir(), 'tdm-metrics-'));
    const log = jsonlWriter(join(dir, 'metrics.jsonl'));
    const before = (await trainer.evaluate()).loss;
    expect((await trainer.evaluate()).loss).toBe(before); // fixed noise: same weights, same number
    const { losses } = await trainer.fit({ steps: 400, every: { log: 50, validate: 200 }, onMetrics: log.write });
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const first = mean(losses.slice(0, 50));
    const last = mean(losses.slice(-50));
    expect(last).toBeLessThan(0.7 * first);
    const lines = readFileSync(log.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.loss !== undefined)).toHaveLength(8);
    const vals = lines.filter((l) => l.valLoss !== undefined).map((l) => l.valLoss);
    expect(vals).toHaveLength(2);
    expect(vals[1]).toBeLessThan(0.7 * before);
    await trainer.dispose();
    d.dispose();
  });

  for (const prediction of ['v', 'sample'] as const) {
    it(`trains with ${prediction} prediction and min-SNR weighting`, async () => {
      const d = new ToyDenoiser(prediction, 2);
      const trainer = await createTrainer(options(d, { regularizers: { minSnrGamma: 5 } }));
      const { losses } = await trainer.fit({ steps: 200 });
      const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
      expect(mean(losses.slice(-40))).toBeLessThan(0.8 * mean(losses.slice(0, 40)));
      await trainer.dispose();
      d.dispose();
    });
  }

  it('a run stopped and resumed from its checkpoint equals the uninterrupted run', async () => {
    const reg = { ema: { decay: 0.9 }, clipGradNorm: 1, offsetNoise: 0.1, inputPerturbation: 0.1, pUncond: 0.2, minSnrGamma: 5 };
    const a = new ToyDenoiser('epsilon', 3);
    const ta = await createTrainer(options(a, { regularizers: reg }));
    for (let i = 0; i < 20; i++) await ta.trainStep();

    const dir = mkdtempSync(join(tmpdir(), 'tdm-ckpt-'));
    const b = new ToyDenoiser('epsilon', 3);
    const tb = await createTrainer(options(b, { regularizers: reg }));
    for (let i = 0; i < 8; i++) await tb.trainStep();
    await saveCheckpoint(tb, dir);
    for (let i = 0; i < 3; i++) await tb.trainStep(); // progress after the save is lost, as in a crash
    await tb.dispose();
    b.dispose();

    const c = new ToyDenoiser('epsilon', 42); // different init: everything must come from the checkpoint
    const tc = await resumeTrainer(dir, options(c, { regularizers: reg, data: mixtureSource(7, 64) }));
    expect(tc.step).toBe(8);
    for (let i = 0; i < 12; i++) await tc.trainStep();
    const wa = snapshot(a);
    const wc = snapshot(c);
    for (const name of Object.keys(wa)) {
      wa[name].forEach((x, i) => expect(Math.abs(x - wc[name][i])).toBeLessThan(1e-6));
    }
    for (const [name, s] of ta.ema!.shadow) {
      const sa = s.dataSync();
      const sc = tc.ema!.shadow.get(name)!.dataSync();
      sa.forEach((x, i) => expect(Math.abs(x - sc[i])).toBeLessThan(1e-6));
    }
    await ta.dispose();
    await tc.dispose();
    a.dispose();
    c.dispose();
  });

  it('keeps the previous checkpoint until the new one is complete and names what is wrong in a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdm-ckpt-'));
    const d = new ToyDenoiser('epsilon', 4);
    const t = await createTrainer(options(d));
    await t.trainStep();
    const p1 = await saveCheckpoint(t, dir);
    await t.trainStep();
    const p2 = await saveCheckpoint(t, dir);
    expect(readFileSync(join(dir, 'latest'), 'utf8')).toBe(p2.split('/').pop());
    expect(readdirSync(dir).filter((f) => f.startsWith('tmp-'))).toEqual([]);
    expect(readdirSync(p1).sort()).toEqual(['checkpoint.safetensors', 'state.json']);

    // another model size: shape mismatch named
    const wide = new ToyDenoiser('epsilon', 4, 32);
    await expect(resumeTrainer(dir, options(wide))).rejects.toThrow(/'in.kernel' has shape \[18,64\] in the checkpoint, \[18,32\]/);
    // other prediction type
    const v = new ToyDenoiser('v', 4);
    await expect(resumeTrainer(dir, options(v))).rejects.toThrow(/prediction is 'epsilon'/);
    // truncated weights file
    const f = join(p2, 'checkpoint.safetensors');
    const bytes = readFileSync(f);
    writeFileSync(f, bytes.subarray(0, bytes.length - 100));
    await expect(resumeTrainer(dir, options(new ToyDenoiser('epsilon', 4)))).rejects.toThrow(/checkpoint.safetensors/);
    await expect(resumeTrainer(join(dir, 'nope'), options(d))).rejects.toThrow(/neither state.json nor a 'latest'/);
    await t.dispose();
    [d, wide, v].forEach((m) => m.dispose());
  });

  it('frozen parameters stay bit-identical while the others move; fineTune loads weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdm-ft-'));
    const src = new ToyDenoiser('epsilon', 5);
    const ts = await createTrainer(options(src));
    for (let i = 0; i < 10; i++) await ts.trainStep();
    await saveCheckpoint(ts, dir);
    const trained = snapshot(src);

    const d = new ToyDenoiser('epsilon', 6);
    const { tensors } = await readModelWeights(dir);
    const t = await createTrainer(options(d, { fineTune: { weights: tensors, freeze: ['in.*'] }, learningRate: 1e-2 }));
    const loaded = snapshot(d);
    for (const name of Object.keys(trained)) expect(Array.from(loaded[name])).toEqual(Array.from(trained[name]));
    expect(t.frozen().map((p) => p.name)).toEqual(['in.kernel', 'in.bias']);
    for (let i = 0; i < 10; i++) await t.trainStep();
    const after = snapshot(d);
    expect(Array.from(after['in.kernel'])).toEqual(Array.from(loaded['in.kernel']));
    expect(Array.from(after['in.bias'])).toEqual(Array.from(loaded['in.bias']));
    for (const name of ['mid.kernel', 'out.kernel', 'out.bias']) {
      expect(after[name].some((x, i) => x !== loaded[name][i])).toBe(true);
    }
    await expect(createTrainer(options(new ToyDenoiser(), { fineTune: { weights: tensors, include: ['nothing.*'] } }))).rejects.toThrow(/match no parameter/);
    await ts.dispose();
    await t.dispose();
    src.dispose();
    d.dispose();
  });

  it('skips non-finite steps, counts them, and stops after maxConsecutiveNonFinite in a row', async () => {
    const d = new ToyDenoiser('epsilon', 7);
    const t = await createTrainer(options(d, { regularizers: { maxConsecutiveNonFinite: 3, clipGradNorm: 1 } }));
    await t.trainStep();
    const w = snapshot(d);
    d.nanOutput = true;
    const r1 = await t.trainStep();
    const r2 = await t.trainStep();
    expect(r1.skipped && r2.skipped).toBe(true);
    expect(Number.isNaN(r1.loss)).toBe(true);
    expect(t.guard.skipped).toBe(2);
    expect(snapshot(d)).toEqual(w); // no update applied
    expect(t.optimizer.step).toBe(1);
    d.nanOutput = false;
    expect((await t.trainStep()).skipped).toBe(false);
    d.nanOutput = true;
    await t.trainStep();
    await t.trainStep();
    await expect(t.trainStep()).rejects.toThrow(NonFiniteError);
    expect(t.guard.skipped).toBe(5);
    await t.dispose();
    d.dispose();
  });

  it('leaks no tensors over 100 steps with every regularizer on', async () => {
    const d = new ToyDenoiser('v', 8);
    const src = mixtureSource(3, 32);
    const v = src.next();
    const t = await createTrainer(
      options(d, {
        data: src,
        validation: { images: v.images, labels: v.labels, timesteps: 3 },
        regularizers: {
          ema: { useEmaWarmup: true }, clipGradNorm: 0.5, minSnrGamma: 5, offsetNoise: 0.1, inputPerturbation: 0.1,
          pUncond: 0.1, dropout: { kind: 'linear', from: 0, to: 0.1, steps: 100 },
          timestepSampler: { kind: 'curriculum', numTrainTimesteps: 100, rampSteps: 50 },
        },
      }),
    );
    tf.dispose(v.images);
    await t.trainStep();
    await t.evaluate({ useEma: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) await t.trainStep();
    await t.evaluate();
    await t.evaluate({ useEma: true });
    expect(tf.memory().numTensors).toBe(before);
    await t.dispose();
    d.dispose();
  });
});
