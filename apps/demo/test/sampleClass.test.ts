// sample --class by index or name, and --out: one PNG grid (cells at the model's size, 2 px apart, no text) with its caption file.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage } from '@tfjs-diffusion/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainCommand } from '../src/commands/train.js';
import { sampleCommand } from '../src/commands/sample.js';
import { classIndices, nearestFirst } from '../src/classes.js';
import { writeImageFolder } from './pngFolder.js';

const root = mkdtempSync(join(tmpdir(), 'demo-sample-class-'));
const run = join(root, 'run');
const tiny = {
  batchSize: 4, valSize: 2, threads: 1, steps: 2, 'every.log': 1, 'every.validate': 100, 'every.sample': 100, 'every.checkpoint': 2,
  'sampler.steps': 2, 'sampler.cols': 1, 'regularizers.ema': 0, 'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4, embedDim: 16, timeFeatureDim: 8 },
};

beforeAll(async () => {
  const data = writeImageFolder(join(root, 'colours'), { classes: true });
  await trainCommand({ out: run, overrides: { ...tiny, dataset: 'folder', dataDir: data, resolution: 16 }, quiet: true });
}, 120_000);

describe('sample --class and --out', () => {
  it('takes class names (any case) and indices; writes one grid of n × 16 px cells 2 px apart and a caption file naming the rows', async () => {
    const out = join(root, 'out');
    const before = tf.memory().numTensors;
    const s = await sampleCommand({ checkpoint: run, classes: ['red', 'Blue', '1'], n: 3, steps: 2, out, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(readdirSync(out).sort()).toEqual([s.captions, s.grid].map((f) => f.slice(out.length + 1)).sort());
    expect(s.grid).toMatch(/class1_0_1-.*\.png$/);
    const grid = decodeImage(new Uint8Array(readFileSync(s.grid)), s.grid);
    // 3 rows of 3 cells of 16 × 16: 2 px between cells and around them.
    expect({ width: grid.width, height: grid.height }).toEqual({ width: 3 * 16 + 4 * 2, height: 3 * 16 + 4 * 2 });
    const cap = JSON.parse(readFileSync(s.captions, 'utf8')) as Record<string, unknown>;
    expect(cap).toMatchObject({ rows: 3, cols: 3, n: 9, height: 16, width: 16, channels: 3, padding: 2, image: s.grid.slice(out.length + 1) });
    expect(cap.rowClasses).toEqual([{ class: 1, name: 'red' }, { class: 0, name: 'blue' }, { class: 1, name: 'red' }]);
  }, 120_000);

  it('an unknown name lists the known ones, nearest first; an index out of range and an unconditional model are refused', async () => {
    await expect(sampleCommand({ checkpoint: run, classes: ['blu'], steps: 2, out: join(root, 'x'), quiet: true }))
      .rejects.toThrow('--class "blu": no class of that name; the run\'s classes, nearest first: "blue", "red" (or an index in [0, 1])');
    await expect(sampleCommand({ checkpoint: run, classes: [2], steps: 2, out: join(root, 'x'), quiet: true })).rejects.toThrow('--class must be integers in [0, 1] or class names; got 2');
    expect(nearestFirst('flgs', ['Smileys & Emotion', 'Food & Drink', 'Flags', 'Objects'])[0]).toBe('Flags');
    expect(nearestFirst('food and drink', ['Smileys & Emotion', 'Flags', 'Food & Drink'])[0]).toBe('Food & Drink');
    expect(classIndices(['3'], ['0', '1', '2', '3'], 4)).toEqual([3]);
    expect(() => classIndices(['cat'], [], 2)).toThrow(/have no names; give an index in \[0, 1\]/);
  }, 60_000);
});
