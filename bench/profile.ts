import type * as tf from '@tensorflow/tfjs';

/** Kernel time and calls per kernel name of a `tf.profile` result, as a markdown table (largest first). */
export async function kernelTable(prof: Awaited<ReturnType<typeof tf.profile>>, top: number): Promise<{ total: number; lines: string[] }> {
  const byName = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of prof.kernels) {
    const ms = Number(await k.kernelTimeMs);
    if (!Number.isFinite(ms)) continue;
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    total += ms;
    byName.set(k.name, e);
  }
  const lines = ['| kernel | ms | % | calls |', '|---|---|---|---|'];
  for (const [name, e] of [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    lines.push(`| ${name} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)} | ${e.calls} |`);
  }
  return { total, lines };
}
