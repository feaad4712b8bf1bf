import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs';
import { createRng } from '@tfjs-diffusion/schedules';
import { writeFileAtomic } from '@tfjs-diffusion/schedules/node';

/** Where tables and plots go: results/ (committed), or RESULTS_DIR (tiny test runs write to a temporary folder). */
export const resultsDir = process.env.RESULTS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/**
 * A script's step budget: `--steps <n>` on the command line, else the STEPS
 * environment variable, else `fallback`. `name` picks another variable/flag
 * (PRETRAIN_STEPS / --pretrain-steps).
 */
export function stepBudget(fallback: number, name = 'steps'): number {
  const flag = `--${name.toLowerCase().replace(/_/g, '-')}`;
  const i = process.argv.indexOf(flag);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[name.toUpperCase()];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} / ${name.toUpperCase()} must be a non-negative integer; got '${raw}'`);
  return n;
}

/** Writes a table as `<name>.json` beside its markdown. */
export async function writeJsonResult(name: string, value: unknown): Promise<string> {
  return writeResult(`${name}.json`, JSON.stringify(value, null, 2) + '\n');
}

/** Batches of `batchSize` images drawn with replacement from a host set, seeded. */
export function randomBatches(set: { data: Float32Array; shape: readonly number[] }, batchSize: number, seed: number) {
  const rng = createRng(seed);
  const n = set.shape[0]!;
  const d = set.data.length / n;
  const buf = new Float32Array(batchSize * d);
  return {
    next: () => {
      for (let i = 0; i < batchSize; i++) {
        const j = rng.nextInt(n);
        buf.set(set.data.subarray(j * d, (j + 1) * d), i * d);
      }
      return { images: tf.tensor4d(buf, [batchSize, ...set.shape.slice(1)] as [number, number, number, number]) };
    },
  };
}

export async function writeResult(name: string, content: string | Buffer): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const path = join(resultsDir, name);
  // whole or not at all: a killed run never leaves a half-written table
  return writeFileAtomic(path, content);
}

/** A markdown table from a header and rows. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

/** Images [n, ...] from a host set: rows `idx`. */
export function pick(set: { data: Float32Array; shape: readonly number[] }, idx: ArrayLike<number>): { data: Float32Array; shape: number[] } {
  const d = set.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) out.set(set.data.subarray(idx[i]! * d, (idx[i]! + 1) * d), i * d);
  return { data: out, shape: [idx.length, ...set.shape.slice(1)] };
}
