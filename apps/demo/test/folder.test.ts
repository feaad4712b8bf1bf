// train --data-dir / --dataset emoji-*: a folder of PNGs written here (class subfolders or flat), the emoji of npm.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { TINY } from './cliProcess.js';
import { writeImageFolder } from './pngFolder.js';

const emojiFails = { on: false };
vi.mock('@tfjs-diffusion/data/node', async (importOriginal) => {
  const real = await importOriginal<typeof import('@tfjs-diffusion/data/node')>();
  return {
    ...real,
    // As the data package says it when the optional peer is missing.
    loadEmoji: (o: Parameters<typeof real.loadEmoji>[0]) => (emojiFails.on
      ? Promise.reject(new Error(`loadEmoji: the npm package 'emoji-datasource-${o?.vendor}' is not installed; it holds the data. Install it beside @tfjs-diffusion/data: npm install emoji-datasource-${o?.vendor}`))
      : real.loadEmoji(o)),
  };
});

const { createProgram } = await import('../src/cli.js');
const { readRunConfig } = await import('../src/runFolder.js');

const root = mkdtempSync(join(tmpdir(), 'demo-folder-'));
let k = 0;
const fresh = (name: string) => join(root, `${name}-${k++}`);

/** The CLI in this process; returns what it logged. */
async function cli(args: string[]): Promise<string> {
  const lines: string[] = [];
  const quiet = [
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => { lines.push(String(s)); }),
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true),
  ];
  try {
    await createProgram().exitOverride().parseAsync(['node', 'cli', ...args]);
  } finally {
    for (const q of quiet) q.mockRestore();
  }
  return lines.join('\n');
}

const train = ['train', '--steps', '2', '--checkpoint-every', '2', ...TINY];

describe('train --data-dir', () => {
  it('a folder with class subfolders trains a class-conditional model at --resolution, its class names saved in the run', async () => {
    const data = writeImageFolder(fresh('classes'), { classes: true, corrupt: true });
    const out = fresh('run');
    const before = tf.memory().numTensors;
    const log = await cli([...train, '--data-dir', data, '--resolution', '16', '--center-crop', '--random-flip', '--val-size', '2', '--out', out]);
    expect(tf.memory().numTensors).toBe(before);
    // The corrupt file is named and counted, never silently dropped.
    expect(log).toContain(`skipped ${join(data, 'red', 'broken.png')}`);
    expect(log).toMatch(/1 file of .* skipped/);
    const run = readRunConfig(out);
    expect(run.dataset).toEqual({ numClasses: 2, height: 16, width: 16, channels: 3, classNames: ['blue', 'red'] });
    expect(run.demo).toMatchObject({ dataset: 'folder', dataDir: data, resolution: 16, centerCrop: true, randomFlip: true, classConditional: true });
    expect(run.model).toMatchObject({ sampleSize: 16, inChannels: 3, outChannels: 3, numClasses: 2 });
    expect(existsSync(join(out, 'checkpoints', 'latest'))).toBe(true);
  }, 120_000);

  it('a flat folder trains an unconditional model (64 px by default); --class-conditional true is refused', async () => {
    const data = writeImageFolder(fresh('flat'), { classes: false });
    const out = fresh('flat-run');
    await cli([...train, '--data-dir', data, '--val-size', '2', '--out', out]);
    const run = readRunConfig(out);
    expect(run.demo.classConditional).toBe(false);
    expect(run.dataset).toMatchObject({ numClasses: 1, height: 64, width: 64, channels: 3 });
    const refused = fresh('refused');
    await expect(cli([...train, '--data-dir', data, '--class-conditional', 'true', '--out', refused])).rejects.toThrow(/--class-conditional true: --data-dir .* has no class subfolders/);
    expect(existsSync(refused)).toBe(false);
  }, 120_000);

  it('bad values are refused naming the flag, before anything is written', async () => {
    const data = writeImageFolder(fresh('classes'), { classes: true });
    const empty = fresh('empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.txt'), 'no images here');
    const file = join(data, 'red', 'red-0.png');
    const cases: [string[], RegExp][] = [
      [['--data-dir', join(root, 'missing')], /--data-dir .*missing: no such folder \(ENOENT\)/],
      [['--data-dir', file], /--data-dir .*red-0\.png: is a file, not a folder of images/],
      [['--data-dir', empty], /--data-dir .*empty-\d+: no \.png, \.jpg or \.jpeg files in /],
      [['--data-dir', data, '--resolution', '8'], /--resolution: resolution must be an integer in \[16, 128\]; got 8/],
      [['--data-dir', data, '--resolution', '200'], /--resolution: resolution must be an integer in \[16, 128\]; got 200/],
      [['--data-dir', data, '--dataset', 'mnist'], /--data-dir .*: a folder is read as --dataset folder, not with --dataset mnist/],
      [['--dataset', 'folder'], /--data-dir: --dataset folder needs the folder of images/],
      [['--center-crop'], /--center-crop: only folders are cropped \(--data-dir\); --dataset mnist/],
      [['--resolution', '32'], /--resolution 32: --dataset mnist is 28 × 28/],
      [['--dataset', 'emoji-google', '--resolution', '48'], /--resolution 48: --dataset emoji-google comes at 32 or 64 px/],
    ];
    for (const [args, msg] of cases) {
      const out = fresh('bad');
      await expect(cli([...train, ...args, '--out', out]), args.join(' ')).rejects.toThrow(msg);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
  }, 120_000);
});

describe('train --dataset emoji-*', () => {
  it('trains on the emoji by category (9 classes, 32 px); a vendor not installed is named with what to install', async () => {
    const out = fresh('emoji');
    await cli([...train, '--dataset', 'emoji-google', '--resolution', '32', '--out', out]);
    const run = readRunConfig(out);
    expect(run.dataset).toMatchObject({ numClasses: 9, height: 32, width: 32, channels: 3 });
    expect(run.dataset.classNames).toEqual(['Smileys & Emotion', 'People & Body', 'Animals & Nature', 'Food & Drink', 'Travel & Places', 'Activities', 'Objects', 'Symbols', 'Flags']);
    emojiFails.on = true;
    try {
      await expect(cli([...train, '--dataset', 'emoji-twitter', '--resolution', '32', '--out', fresh('x')])).rejects.toThrow(
        /^--dataset emoji-twitter: the npm package 'emoji-datasource-twitter' is not installed; .*npm install emoji-datasource-twitter$/,
      );
    } finally {
      emojiFails.on = false;
    }
  }, 180_000);
});
