import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export async function writeResult(name: string, content: string | Buffer): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const path = join(resultsDir, name);
  await writeFile(path, content);
  return path;
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
