import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, type DecodedImage } from '@tfjs-diffusion/data';
import { describe, expect, it, vi } from 'vitest';
import type { HostImages } from '../src/dataset.js';

// A dataset of 12×8 images of C channels (two classes, tinted apart) in place of MNIST.
const H = 12, W = 8;
let C = 3;
const fake = (n: number, seed: number): HostImages => {
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const data = new Float32Array(n * H * W * C);
  for (let i = 0; i < data.length; i++) {
    const k = Math.floor(i / (H * W * C));
    const ch = i % C;
    data[i] = Math.max(-1, Math.min(1, (ch === labels[k]! * (C - 1) ? 0.8 : -0.6) + 0.2 * Math.sin(i * 0.37 + seed)));
  }
  return { data, labels, n, height: H, width: W, channels: C, numClasses: 2, classNames: ['red', 'blue'] };
};
vi.mock('../src/dataset.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/dataset.js')>()),
  loadDataset: (_: string, o: { trainSize: number; valSize: number }) => ({ train: fake(Math.max(o.trainSize, 1), 1), val: fake(o.valSize, 2) }),
}));

const { trainCommand } = await import('../src/commands/train.js');
const { sampleCommand } = await import('../src/commands/sample.js');
const { fineTuneCommand } = await import('../src/commands/fineTune.js');
const { evalCommand } = await import('../src/commands/eval.js');
const { readRunConfig } = await import('../src/runFolder.js');

const tiny = {
  batchSize: 4, trainSize: 16, valSize: 4, threads: 1,
  'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
  'every.log': 1, 'every.validate': 100, 'every.sample': 100, 'every.checkpoint': 100,
  'sampler.steps': 2, 'sampler.cols': 2, 'regularizers.ema': 0,
};
const decode = (f: string) => decodeImage(new Uint8Array(readFileSync(f)), f);
const coloured = (p: DecodedImage) => {
  for (let i = 0; i < p.rgba.length; i += 4) if (p.rgba[i] !== p.rgba[i + 1] || p.rgba[i + 1] !== p.rgba[i + 2]) return true;
  return false;
};

describe('a dataset of another shape than 28×28×1', () => {
  it.each([3, 4, 2])('%i channels: trains a model of its shape, writes grids, samples, fine-tunes and evaluates', async (channels) => {
    C = channels;
    const root = mkdtempSync(join(tmpdir(), 'demo-shapes-'));
    const base = join(root, 'base');
    const before = tf.memory().numTensors;
    const t = await trainCommand({ out: base, overrides: { ...tiny, steps: 2 }, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const run = readRunConfig(base);
    expect(run.dataset).toMatchObject({ height: H, width: W, channels: C, numClasses: 2 });
    expect(run.model).toMatchObject({ sampleSize: [H, W], inChannels: C, outChannels: C });
    // Two classes × two columns of 12×8 images, 2 px apart and around.
    const grid = decode(t.samples.at(-1)!);
    expect({ width: grid.width, height: grid.height }).toEqual({ width: 2 * W + 3 * 2, height: 2 * H + 3 * 2 });
    expect(coloured(grid)).toBe(C >= 3);

    const s = await sampleCommand({ checkpoint: base, steps: 2, quiet: true });
    expect(coloured(decode(s.grid))).toBe(C >= 3);

    const ft = await fineTuneCommand({ checkpoint: base, out: join(root, 'ft'), overrides: { ...tiny, steps: 1 }, quiet: true });
    expect(ft.step).toBe(1);

    const e = await evalCommand({ checkpoint: base, n: 2, steps: 2, classifierEpochs: 1, quiet: true });
    expect(e.samples).toBe(4);
    expect(e.memorizationRate).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(e.frechetDistance)).toBe(true);
    expect(coloured(decode(e.samplesGrid))).toBe(C >= 3);
    expect(tf.memory().numTensors).toBe(before);
  }, 240_000);
});
