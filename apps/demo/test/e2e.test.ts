import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildModel, loadWeights } from '../src/build.js';
import { evalCommand } from '../src/commands/eval.js';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';
import { readMetrics, readRunConfig } from '../src/runFolder.js';

/** Decodes a PNG's header and pixel stream (zlib) and checks the stream has exactly height rows of width pixels. */
function decodePng(buf: Buffer): { width: number; height: number; channels: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))).toBe(true);
  let off = 8;
  let width = 0, height = 0, bitDepth = 0, colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8]!;
      colorType = data[9]!;
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  expect(channels, `PNG colour type ${colorType}`).toBeDefined();
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (1 + (width * channels! * bitDepth) / 8));
  return { width, height, channels: channels! };
}

// A grid of r × c images of 28 px with the demo's padding of 2 between and around them (viz's layout).
const gridSize = (rows: number, cols: number) => ({ width: cols * 28 + (cols + 1) * 2, height: rows * 28 + (rows + 1) * 2 });

describe('demo end to end: train, resume, sample, eval', () => {
  it('writes a complete run folder and continues it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'demo-e2e-')), 'run');
    const overrides = {
      steps: 6, batchSize: 4, trainSize: 200, valSize: 16,
      'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
      'every.log': 2, 'every.validate': 3, 'every.sample': 3, 'every.checkpoint': 3,
      'sampler.steps': 2, 'sampler.cols': 2, 'regularizers.ema': 0.9,
    };
    // First part: 4 of 6 steps.
    const a = await trainCommand({ out, overrides, maxSteps: 4, quiet: true });
    expect(a.step).toBe(4);
    const run = readRunConfig(out);
    expect(run.demo.steps).toBe(6);
    expect(run.demo.batchSize).toBe(4);
    let m = readMetrics(join(out, 'metrics.jsonl'));
    // Logged at 2, 3 (validation) and 4 (log step and the last step of this call).
    expect(m.map((l) => l.step)).toEqual([2, 3, 4]);
    expect(Number.isFinite(m[1]!.valLoss)).toBe(true);
    expect(existsSync(join(out, 'samples', 'step-000003.png'))).toBe(true);

    // Resume: continues at step 5, not 1.
    const b = await trainCommand({ resume: out, quiet: true });
    expect(b.step).toBe(6);
    m = readMetrics(join(out, 'metrics.jsonl'));
    expect(m.map((l) => l.step)).toEqual([2, 3, 4, 6]);
    expect(m.every((l) => Number.isFinite(l.loss))).toBe(true);
    expect(readdirSync(join(out, 'checkpoints')).filter((f) => f.startsWith('ckpt-')).sort()).toEqual(['ckpt-00000004', 'ckpt-00000006']);

    // Sample grid: one row per class (10 classes) of 2 images, as the config says.
    const grid = decodePng(readFileSync(join(out, 'samples', 'step-000006.png')));
    expect({ width: grid.width, height: grid.height }).toEqual(gridSize(10, 2));
    const loss = decodePng(readFileSync(join(out, 'loss.png')));
    expect(loss.width).toBeGreaterThan(100);

    // The checkpoint loads into a fresh model and gives back the saved EMA weights.
    const model = buildModel(run.model, 123);
    const w = await loadWeights(model, join(out, 'checkpoints'));
    expect(w.source).toBe('ema');
    expect(w.path).toContain('ckpt-00000006');
    model.dispose();

    const s = await sampleCommand({ checkpoint: out, sampler: 'euler-a', steps: 2, classes: [3, 7], n: 3, each: true, quiet: true });
    const sg = decodePng(readFileSync(s.grid));
    expect({ width: sg.width, height: sg.height }).toEqual(gridSize(2, 3));
    expect(s.images).toHaveLength(6);
    expect(decodePng(readFileSync(s.images[0]!))).toMatchObject({ width: 28, height: 28 });

    const e = await evalCommand({ checkpoint: out, n: 2, steps: 2, classifierEpochs: 1, classifierTrainSize: 200, quiet: true });
    const report = readFileSync(e.report, 'utf8');
    expect(report).toContain('memorization rate');
    expect(e.memorizationRate).toBeGreaterThanOrEqual(0);
    expect(e.memorizationRate).toBeLessThanOrEqual(1);
    expect(e.classifierAccuracy).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(e.frechetDistance)).toBe(true);
    const nn = decodePng(readFileSync(e.neighbourGrid));
    expect(nn.height).toBe(gridSize(10, 5).height); // 10 samples, each with 4 neighbours
  }, 110_000);
});
