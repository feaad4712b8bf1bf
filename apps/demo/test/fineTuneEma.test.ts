import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFrom, readCheckpoint } from '@tfjs-diffusion/training/node';
import { describe, expect, it } from 'vitest';
import { buildModel, loadWeights } from '../src/build.js';
import { fineTuneCommand } from '../src/commands/fineTune.js';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';
import { readRunConfig } from '../src/runFolder.js';

const tiny = {
  batchSize: 4, trainSize: 40, valSize: 8, threads: 1,
  'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
  'every.log': 1, 'every.validate': 100, 'every.sample': 100, 'every.checkpoint': 100,
  'sampler.steps': 2, 'sampler.cols': 1, 'regularizers.ema': 0.9,
};

describe('fine-tune --freeze, then sample', () => {
  it('samples with the EMA for the trained parameters and the raw weights for the frozen ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-ft-'));
    const base = join(root, 'base');
    await trainCommand({ out: base, overrides: { ...tiny, steps: 2 }, quiet: true });
    const ft = join(root, 'ft');
    await fineTuneCommand({ checkpoint: base, out: ft, freeze: ['down.*', 'convIn.*'], overrides: { ...tiny, steps: 3 }, quiet: true });

    const ck = await readCheckpoint(ft);
    const trained = new Set(ck.state.config.trainable);
    expect(trained.size).toBeGreaterThan(0);
    expect(Object.keys(ck.model).some((n) => n.startsWith('down.') && !trained.has(n))).toBe(true);
    expect(Object.keys(ck.ema!).sort()).toEqual([...trained].sort());

    // What sample loads: the EMA where there is one, the (unchanged) raw weights elsewhere.
    const model = buildModel(readRunConfig(ft).model, 99);
    const w = await loadWeights(model, ft);
    expect(w.source).toBe('ema');
    let differs = 0;
    for (const p of model.parameters()) {
      const got = Array.from(p.variable.dataSync());
      const want = trained.has(p.name) ? ck.ema![p.name]! : ck.model[p.name]!;
      expect(got, p.name).toEqual(Array.from(want.data));
      if (trained.has(p.name) && got.some((x, i) => x !== ck.model[p.name]!.data[i])) differs++;
    }
    expect(differs).toBeGreaterThan(0); // the EMA is not the raw weights
    model.dispose();

    // The run folder is a model folder holding the same weights.
    expect(existsSync(join(ft, 'model.safetensors'))).toBe(true);
    const mf = await loadModelFrom(ft);
    for (const p of mf.model.parameters()) {
      const want = trained.has(p.name) ? ck.ema![p.name]! : ck.model[p.name]!;
      expect(Array.from(p.variable.dataSync()), p.name).toEqual(Array.from(want.data));
    }
    mf.model.dispose();

    const s = await sampleCommand({ checkpoint: ft, steps: 2, classes: [1], n: 1, quiet: true });
    expect(s.weights).toBe('ema');
  }, 120_000);
});
