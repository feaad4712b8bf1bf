import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { loadModelFrom, readCheckpoint } from '@tfjs-diffusion/training/node';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES } from '@tfjs-diffusion/data';
import { loadModelFolder } from '../../playground/src/modelFolder.js';
import { buildModel, buildSchedule, loadWeights, sampleImages } from '../src/build.js';
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

describe('fine-tune onto another dataset', () => {
  it("names the new dataset's classes in the new run, not the old one's", async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-ft-classes-'));
    const base = join(root, 'base');
    await trainCommand({ out: base, overrides: { ...tiny, steps: 1 }, quiet: true });
    expect(readRunConfig(base).dataset.classNames[0]).toBe('0');
    const ft = join(root, 'ft');
    await fineTuneCommand({ checkpoint: base, out: ft, overrides: { ...tiny, steps: 1, dataset: 'fashion-mnist' }, quiet: true });
    const run = readRunConfig(ft);
    expect(run.demo.dataset).toBe('fashion-mnist');
    expect(run.dataset.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(run.dataset.numClasses).toBe(10);
  }, 120_000);
});

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

  it("the page's reader takes the weights cli sample takes from a fine-tuned run, and samples the same images", async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-ft-page-'));
    const base = join(root, 'base');
    await trainCommand({ out: base, overrides: { ...tiny, steps: 2 }, quiet: true });
    const ft = join(root, 'ft');
    await fineTuneCommand({ checkpoint: base, out: ft, freeze: ['down.*', 'convIn.*'], overrides: { ...tiny, steps: 3 }, quiet: true });
    const ck = await readCheckpoint(ft);
    const run = readRunConfig(ft);

    // The checkpoint folder dropped on the page with the run's config.json, as the browser names the files.
    const files = [join(ft, 'config.json'), join(ck.path, 'state.json'), join(ck.path, 'checkpoint.safetensors')]
      .map((f) => ({ name: join('ft', relative(ft, f)), bytes: new Uint8Array(readFileSync(f)) }));
    const page = await loadModelFolder(files);
    const cli = buildModel(run.model, 99);
    const w = await loadWeights(cli, ck.path);
    expect(w.source).toBe('ema');
    expect(page.description).toContain('EMA weights after 3 steps');
    try {
      const frozen = page.model.parameters().filter((p) => !ck.state.config.trainable.includes(p.name));
      expect(frozen.length).toBeGreaterThan(0);
      const byName = new Map(cli.parameters().map((p) => [p.name, p.variable]));
      for (const p of page.model.parameters()) expect(Array.from(p.variable.dataSync()), p.name).toEqual(Array.from(byName.get(p.name)!.dataSync()));
      const request = { ...run.demo.sampler, sampler: run.demo.sampler.name, steps: 2, seed: 5, labels: [1, 3], n: 2, numClasses: 10, height: 28, width: 28, channels: 1 };
      const a = await sampleImages(cli, buildSchedule(run.demo), request);
      const b = await sampleImages(page.model as never, page.schedule, request);
      expect(Array.from(b)).toEqual(Array.from(a));
    } finally {
      page.model.dispose();
      cli.dispose();
    }

    // A model folder as the page downloads it (the one writer's files) samples as EMA weights, and is named so.
    const mf = join(root, 'downloaded');
    mkdirSync(mf);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(ft, f), join(mf, f));
    const s = await sampleCommand({ checkpoint: mf, steps: 2, classes: [1], n: 1, quiet: true });
    expect(basename(s.grid)).toMatch(/^step3-ema-class1-/);
    expect(readdirSync(join(mf, 'sampled')).sort()).toEqual([basename(s.captions), basename(s.grid)]);
  }, 120_000);
});
