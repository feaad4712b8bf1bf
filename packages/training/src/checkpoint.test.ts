import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, MLPDenoiser } from '@tfjs-diffusion/models';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { createTrainer, type TrainerOptions } from './index.js';
import {
  jsonlWriter,
  loadCheckpoint,
  loadModelFrom,
  readCheckpoint,
  readJsonl,
  readMetrics,
  readModelWeights,
  saveCheckpoint,
  truncateMetrics,
  writeCheckpoint,
} from './node.js';
import { mixtureSource, ToyDenoiser } from './testing/toy.js';
import { inferenceWeights } from './weights.js';

const schedule = makeSchedule({ numTrainTimesteps: 100, betaSchedule: 'linear', betaStart: 1e-3, betaEnd: 0.2 });
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const values = (t: { data: Float32Array }) => Array.from(t.data);

function mlp(seed: number) {
  return new MLPDenoiser({ dim: 2, hidden: 16, layers: 1, numClasses: 2 }, { seed });
}

function options(denoiser: TrainerOptions['denoiser'], extra: Partial<TrainerOptions> = {}): TrainerOptions {
  return { denoiser, schedule, data: mixtureSource(7, 16), learningRate: 1e-2, seed: 3, regularizers: { ema: { decay: 0.9 } }, ...extra };
}

describe('checkpoint data', () => {
  it('round-trips through bytes, and state.json errors name the field', async () => {
    const d = new ToyDenoiser('epsilon', 1);
    const t = await createTrainer(options(d));
    for (let i = 0; i < 3; i++) await t.trainStep();
    const ck = t.checkpoint();
    const files = encodeCheckpoint(ck);
    const back = decodeCheckpoint(files, 'mem');
    expect(back.state).toEqual(ck.state);
    for (const role of ['model', 'ema'] as const) {
      for (const [name, x] of Object.entries(ck[role]!)) expect(values(back[role]![name]!)).toEqual(values(x));
    }
    expect(Object.keys(back.adam.m).sort()).toEqual(Object.keys(ck.adam.m).sort());
    const bad = JSON.parse(files.state);
    bad.config.numTrainTimesteps = -1;
    expect(() => decodeCheckpoint({ ...files, state: JSON.stringify(bad) }, 'mem')).toThrow(/'config.numTrainTimesteps' must be a positive integer; got -1/);
    expect(() => decodeCheckpoint({ ...files, state: '{' }, 'mem')).toThrow(/state.json is not valid JSON/);
    await t.dispose();
    d.dispose();
  });

  it('inference weights: the EMA for trained parameters, the raw weights for frozen ones; a missing EMA tensor is named', async () => {
    const d = new ToyDenoiser('epsilon', 2);
    const t = await createTrainer(options(d, { freeze: ['in.*'] }));
    for (let i = 0; i < 5; i++) await t.trainStep();
    const ck = t.checkpoint();
    const w = inferenceWeights(ck);
    expect(w.source).toBe('ema');
    for (const p of d.parameters()) {
      const want = t.frozen().includes(p) ? ck.model[p.name]! : ck.ema![p.name]!;
      expect(values(w.tensors[p.name]!)).toEqual(values(want));
    }
    // The EMA lags the raw weights, so taking it changes the trained tensors.
    expect(values(w.tensors['mid.kernel']!)).not.toEqual(values(ck.model['mid.kernel']!));
    expect(values(inferenceWeights(ck, { ema: false }).tensors['mid.kernel']!)).toEqual(values(ck.model['mid.kernel']!));
    const broken: Checkpoint = { ...ck, ema: { ...ck.ema! } };
    delete broken.ema!['out.bias'];
    expect(() => inferenceWeights(broken)).toThrow(/no EMA weights for the trained parameter 'out.bias'/);
    await t.dispose();
    d.dispose();
  });
});

describe('checkpoint folders', () => {
  it('a non-finite state is never saved and the last finite checkpoint survives rotation', async () => {
    const dir = tmp('tdm-nan-');
    const d = new ToyDenoiser('epsilon', 3);
    const t = await createTrainer(options(d, { regularizers: { maxConsecutiveNonFinite: 10 } }));
    await t.trainStep();
    const good = await saveCheckpoint(t, dir, { keep: 1 });
    d.nanOutput = true;
    expect((await t.trainStep()).skipped).toBe(true);
    await expect(saveCheckpoint(t, dir, { keep: 1 })).rejects.toThrow(/non-finite/);
    // fit does not call onCheckpoint after a skipped step
    let saves = 0;
    await t.fit({ steps: 2, every: { checkpoint: 1 }, onCheckpoint: () => saves++ });
    expect(saves).toBe(0);
    // Weights that became NaN (finite loss but a broken update) are refused too.
    d.nanOutput = false;
    await t.trainStep();
    const ck = t.checkpoint();
    ck.model['out.bias']!.data[0] = NaN;
    await expect(writeCheckpoint(dir, ck, { keep: 1 })).rejects.toThrow(/parameter 'out.bias' holds NaN or Inf/);
    expect(readdirSync(dir).filter((f) => f.startsWith('ckpt-'))).toEqual([good.split('/').pop()]);
    expect(readFileSync(join(dir, 'latest'), 'utf8')).toBe(good.split('/').pop());
    await t.dispose();
    d.dispose();
  });

  it('leftovers of a killed writer are removed on the next write and on resume', async () => {
    const dir = tmp('tdm-tmp-');
    const d = new ToyDenoiser('epsilon', 4);
    const t = await createTrainer(options(d));
    await t.trainStep();
    await saveCheckpoint(t, dir);
    // pid 2^22 + 1 is above Linux's pid_max default: no such process.
    const dead = 4194305;
    mkdirSync(join(dir, `tmp-ckpt-00000009-${dead}`));
    writeFileSync(join(dir, 'latest.tmp'), 'ckpt-00000009');
    await loadCheckpoint(t, dir);
    expect(readdirSync(dir).sort()).toEqual(['ckpt-00000001', 'latest']);
    mkdirSync(join(dir, `tmp-ckpt-00000010-${dead}`));
    mkdirSync(join(dir, `tmp-ckpt-00000011-${process.pid}`)); // a live writer's (ours): kept until overwritten
    await t.trainStep();
    await saveCheckpoint(t, dir);
    expect(readdirSync(dir).filter((f) => f.startsWith('tmp-'))).toEqual([`tmp-ckpt-00000011-${process.pid}`]);
    await t.dispose();
    d.dispose();
  });

  it('a fine-tuned run folder is a model folder whose weights are the EMA for trained and raw for frozen parameters', async () => {
    const run = tmp('tdm-run-');
    const base = mlp(1);
    const t0 = await createTrainer(options(base));
    for (let i = 0; i < 4; i++) await t0.trainStep();
    await saveCheckpoint(t0, join(run, 'base', 'checkpoints'), { modelDir: join(run, 'base') });
    await t0.dispose();

    // Fine-tune from the base run's folder with the input layer frozen.
    const start = await readModelWeights(join(run, 'base'));
    expect(start.source).toBe('ema');
    const d = mlp(2);
    const t = await createTrainer(options(d, { fineTune: { weights: start.tensors, freeze: ['in*'] } }));
    expect(t.frozen().length).toBeGreaterThan(0);
    for (let i = 0; i < 6; i++) await t.trainStep();
    const ftDir = join(run, 'ft');
    await saveCheckpoint(t, join(ftDir, 'checkpoints'), { modelDir: ftDir });
    const ck = (await readCheckpoint(ftDir));
    expect(existsSync(join(ftDir, 'config.json'))).toBe(true);
    const file = decodeSafetensors(readFileSync(join(ftDir, 'model.safetensors')));
    for (const path of [ftDir, join(ftDir, 'checkpoints'), ck.path]) {
      const { model, source } = await loadModelFrom(path);
      expect(source).toBe('ema');
      for (const p of model.parameters()) {
        const frozen = t.frozen().some((q) => q.name === p.name);
        const want = frozen ? ck.model[p.name]! : ck.ema![p.name]!;
        expect(Array.from(p.variable.dataSync())).toEqual(values(want));
        expect(Array.from(file.tensors[p.name]!.data as Float32Array)).toEqual(values(want));
        // frozen: still the base run's EMA weights it started from
        if (frozen) expect(values(want)).toEqual(values(start.tensors[p.name]!));
      }
      model.dispose();
    }
    // A model folder alone (config.json + model.safetensors) loads the same.
    const mf = tmp('tdm-mf-');
    writeFileSync(join(mf, 'config.json'), readFileSync(join(ftDir, 'config.json')));
    writeFileSync(join(mf, 'model.safetensors'), readFileSync(join(ftDir, 'model.safetensors')));
    const m2 = await loadModelFrom(mf);
    expect(m2.source).toBe('model-folder');
    m2.model.dispose();
    await expect(readModelWeights(mf, { ema: false })).rejects.toThrow(/model folder: it holds only the inference weights/);
    await expect(readModelWeights(tmp('tdm-empty-'))).rejects.toThrow(/not a run folder .* or a model folder/);
    await t.dispose();
    base.dispose();
    d.dispose();
  });
});

describe('metrics files', () => {
  it('a torn last line is skipped by the reader and cut by the writer; resume truncates to its step', () => {
    const path = join(tmp('tdm-jsonl-'), 'metrics.jsonl');
    const w = jsonlWriter(path);
    for (const step of [1, 2, 3, 4]) w.write({ step, loss: step / 10 });
    writeFileSync(path, readFileSync(path, 'utf8') + '{"step":5,"lo');
    expect(readMetrics(path).map((r) => r.step)).toEqual([1, 2, 3, 4]);
    jsonlWriter(path).write({ step: 5, loss: 0.5 });
    expect(readMetrics(path).map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
    expect(truncateMetrics(path, 3)).toBe(2);
    expect(readJsonl(path)).toEqual([1, 2, 3].map((step) => ({ step, loss: step / 10 })));
    expect(readdirSync(join(path, '..'))).toEqual(['metrics.jsonl']);
    writeFileSync(path, '{"step":1}\n{oops\n{"step":2}\n');
    expect(() => readMetrics(path)).toThrow(/metrics.jsonl:2: not a JSON line/);
  });
});

describe('restore', () => {
  it('leaves nothing changed when the checkpoint does not fit, and leaks no tensors', async () => {
    const d = new ToyDenoiser('epsilon', 5);
    const t = await createTrainer(options(d));
    await t.trainStep();
    const ck = t.checkpoint();
    const wide = new ToyDenoiser('epsilon', 5, 32);
    const tw = await createTrainer(options(wide));
    const before = tf.memory().numTensors;
    const w0 = wide.parameters().map((p) => Array.from(p.variable.dataSync()));
    await expect(tw.restore(ck, 'mem')).rejects.toThrow(/weights of 'in.kernel' has shape \[18,64\] in the checkpoint, \[18,32\]/);
    expect(wide.parameters().map((p) => Array.from(p.variable.dataSync()))).toEqual(w0);
    expect(tw.step).toBe(0);
    const nan: Checkpoint = { ...ck, adam: { ...ck.adam, v: { ...ck.adam.v, 'mid.bias': { shape: ck.adam.v['mid.bias']!.shape, data: ck.adam.v['mid.bias']!.data.map(() => Infinity) } } } };
    await expect(t.restore(nan, 'mem')).rejects.toThrow(/checkpoint mem: Adam v of 'mid.bias' holds NaN or Inf; continue from an earlier checkpoint/);
    await t.restore(ck);
    expect(tf.memory().numTensors).toBe(before);
    await Promise.all([t.dispose(), tw.dispose()]);
    d.dispose();
    wide.dispose();
  });
});
