import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadWasmKernels, useWasmVariant } from './loader.js';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('the project wasm kernels', () => {
  it('load in Node with relaxed SIMD (V8 flag set in-process) and plain SIMD, and compute a·x + y', async () => {
    const k = await loadWasmKernels();
    expect(k.available).toEqual(['simd', 'relaxed']);
    expect(k.variant).toBe('relaxed');
    expect(await loadWasmKernels()).toBe(k);
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    for (const variant of k.available) {
      const m = k.module('axpy', variant);
      const base = m.reserve(8 * n + 64 * 1024 * 4); // grows past the first page
      m.f32().set(x, base / 4);
      m.f32().set(y, base / 4 + n);
      m.exports.axpy!(n, 0.5, base, base + 4 * n);
      const got = m.f32().subarray(base / 4 + n, base / 4 + 2 * n);
      for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(Math.fround(0.5 * x[i]! + y[i]!), 6);
    }
    expect(() => useWasmVariant('fast' as never)).toThrow("variant must be one of 'simd', 'relaxed' here; got 'fast'");
    expect(() => k.module('nope')).toThrow(/no wasm module 'nope'/);
  });

  it('the committed build output is what scripts/build-wasm.mjs produces from wasm/', () => {
    const out = mkdtempSync(join(tmpdir(), 'wasm-out-'));
    try {
      execFileSync(process.execPath, [join(here, '../../../scripts/build-wasm.mjs'), '--out', out], { stdio: 'pipe' });
      const built = readdirSync(out).sort();
      expect(readdirSync(here).filter((f) => f.endsWith('.generated.ts')).sort()).toEqual(built);
      for (const f of built) expect(readFileSync(join(here, f), 'utf8'), `${f} is stale: run pnpm --filter @tfjs-diffusion/backend run build:wasm`).toBe(readFileSync(join(out, f), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
