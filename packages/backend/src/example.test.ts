import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

describe('README', () => {
  it('the quickstart runs as written and prints what the README shows', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
    try {
      // A computed specifier: the example lives outside src/ (and outside tsc's rootDir).
      await import(new URL('../examples/quickstart.ts', import.meta.url).href);
    } finally {
      log.mockRestore();
    }
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(lines[0]).toMatch(/^@tfjs-diffusion\/backend: using 'wasm' \+ training kernels \(Conv2DBackpropFilter, .*\), SIMD, own kernels with relaxed SIMD, 1 thread; skipped tfjs-node-gpu: /);
    for (const step of [0, 4]) {
      const shown = readme.match(new RegExp(`wasm step ${step}: loss ([0-9.]+)`))![1];
      expect(lines).toContain(`wasm step ${step}: loss ${shown}`);
    }
  });
});
