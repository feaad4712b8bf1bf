// The project's own wasm kernels in Chromium: embedded modules compile
// asynchronously on the page's main thread, relaxed SIMD is on by default there.
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundlePage, launchChromium, serveDir, type ServedDir } from '../../../../../tools/browser.js';

const skip = browserSkipReason();
if (skip) console.log(skip);

const evalApi = (page: Page, fn: string, ...args: unknown[]) =>
  page.evaluate(([fn, args]) => (globalThis as unknown as { wasmKernelsTest: Record<string, (...a: unknown[]) => unknown> }).wasmKernelsTest[fn as string]!(...(args as unknown[])), [fn, args] as const);

describe.skipIf(skip !== undefined)('own wasm kernels in Chromium', () => {
  let dir: string;
  let server: ServedDir;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wasm-kernels-page-'));
    await bundlePage({ entry: fileURLToPath(new URL('../../../browser/wasmKernelsPage.ts', import.meta.url)), outDir: dir });
    const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    for (const f of await readdir(wasmDir)) if (f.endsWith('.wasm')) await cp(join(wasmDir, f), join(dir, f));
    server = await serveDir(dir);
    browser = await launchChromium();
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    expect(errors).toEqual([]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('load with initBackend (relaxed SIMD by default, plain SIMD too) and compute', async () => {
    const r = (await evalApi(page, 'init', { prefer: 'wasm', wasmPaths: `${server.url}/` })) as { info: { notes: string[] }; variant: string; available: string[] };
    expect(r.available).toEqual(['simd', 'relaxed']);
    expect(r.variant).toBe('relaxed');
    expect(r.info.notes).toContain('own kernels with relaxed SIMD');
    for (const v of ['simd', 'relaxed']) expect(await evalApi(page, 'axpy', v)).toBeLessThan(1e-6);
  });

  it('Winograd 3×3 convolutions match the cpu backend in the page, in both variants and tile sizes', async () => {
    await evalApi(page, 'init', { prefer: 'wasm', wasmPaths: `${server.url}/` });
    for (const v of ['simd', 'relaxed']) {
      for (const m of [2, 4]) {
        const r = (await evalApi(page, 'conv', v, m)) as { error: number; winograd: boolean };
        expect(r.winograd, `${v} F(${m})`).toBe(true);
        expect(r.error, `${v} F(${m})`).toBeLessThan(1e-5);
      }
    }
  });
});
