// Sampling over threads in the CLI: the same seed gives the same images on one thread and on two.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../src/commands/eval.js';
import { trainCommand } from '../src/commands/train.js';
import { run, tempDir } from './cliProcess.js';

const png = (dir: string) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
  expect(files).toHaveLength(1);
  return readFileSync(join(dir, files[0]!));
};

describe('sampling on 2 threads (wasm worker threads) equals 1 thread', () => {
  let root: string;
  let runDir: string;
  beforeAll(async () => {
    root = tempDir('threads');
    runDir = join(root, 'run');
    // A class-conditional run trained a few steps on 2 threads, so its samples depend on trained weights;
    // its grid at the last step is sampled over the run's 2 threads.
    const r = await trainCommand({
      out: runDir, quiet: true,
      overrides: {
        steps: 4, batchSize: 4, trainSize: 64, valSize: 8, threads: 2, 'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
        'every.sample': 4, 'every.checkpoint': 4, 'sampler.steps': 2, 'sampler.cols': 1,
      },
    });
    expect(r.samples).toHaveLength(1);
  }, 300_000);

  const cases: [string, string[]][] = [
    ['DDIM', ['--sampler', 'ddim', '--guidance', '1']],
    ['Euler ancestral with guidance 3 and dynamic thresholding', ['--sampler', 'euler-a', '--guidance', '3', '--threshold', 'dynamic']],
    ['DDPM', ['--sampler', 'ddpm', '--guidance', '2']],
  ];
  for (const [name, args] of cases) {
    it(`cli sample, ${name}: --threads 2 writes the same PNG as --threads 1`, async () => {
      const out = (k: string) => join(root, `${name.split(' ')[0]}-${k}`);
      const common = ['sample', '--checkpoint', runDir, '--steps', '4', '--n', '3', '--seed', '5', ...args];
      const one = await run('node', [...common, '--threads', '1', '--out', out('1')]);
      expect(one.code, one.output).toBe(0);
      expect(one.output).toMatch(/on 1 thread\b/);
      const two = await run('node', [...common, '--threads', '2', '--out', out('2')]);
      expect(two.code, two.output).toBe(0);
      expect(two.output).toMatch(/on 2 threads/);
      expect(png(out('2')).equals(png(out('1')))).toBe(true);
      // Another seed: other images (the comparison can tell them apart).
      const other = await run('node', [...common, '--threads', '2', '--seed', '6', '--out', out('other')]);
      expect(other.code, other.output).toBe(0);
      expect(png(out('other')).equals(png(out('1')))).toBe(false);
    }, 300_000);
  }

  it('cli sample refuses more threads than cores, by name', async () => {
    const r = await run('node', ['sample', '--checkpoint', runDir, '--threads', '64']);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/--threads 64 is more than the \d+ cores? of this machine/);
  }, 120_000);

  it('eval samples the same images on 2 threads as on 1', async () => {
    const ev = (threads: number) =>
      evalCommand({ checkpoint: runDir, n: 2, steps: 3, classifierEpochs: 1, classifierTrainSize: 64, out: join(root, `eval-${threads}`), threads, quiet: true });
    const one = await ev(1);
    const two = await ev(2);
    expect(readFileSync(two.samplesGrid).equals(readFileSync(one.samplesGrid))).toBe(true);
    expect(two.classifierAccuracy).toBe(one.classifierAccuracy);
  }, 300_000);
});

