// initBackend and the U-Net's gradients in real Chromium: WebGPU (software
// adapter), WebGL (SwiftShader) and wasm (SIMD, threaded when isolated).
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundlePage, launchChromium, serveDir, type ServedDir } from '../../../tools/browser.js';
import type { BackendInfo, InitBackendOptions } from './backendTypes.js';
import type { GradientCheck } from './testing/gradientChecks.js';

const skip = browserSkipReason();
if (skip) console.log(skip);

interface PageApi {
  init(o: InitBackendOptions): Promise<BackendInfo>;
  checks(backend: string): Promise<GradientCheck[]>;
  unetGradients(backend: string): Promise<{ name: string; error: number; scale: number }[]>;
  trainSmallUnet(steps: number): Promise<{ losses: number[]; before: number; after: number }>;
}
const call = <K extends keyof PageApi>(page: Page, k: K, ...args: Parameters<PageApi[K]>) =>
  page.evaluate(([k, args]) => (globalThis as unknown as { backendTest: Record<string, (...a: unknown[]) => unknown> }).backendTest[k]!(...args), [k, args] as const) as ReturnType<PageApi[K]>;

describe.skipIf(skip !== undefined)('in Chromium', () => {
  let dir: string;
  let isolated: ServedDir;
  let plain: ServedDir;
  let browser: Browser;
  const open = async (server: ServedDir, requests?: string[]): Promise<Page> => {
    const page = await browser.newPage();
    page.on('request', (r) => requests?.push(r.url()));
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    return page;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backend-page-'));
    // The models package's Node-only file helpers are bundled but never called.
    await bundlePage({ entry: fileURLToPath(new URL('../browser/gradientsPage.ts', import.meta.url)), outDir: dir, nodeBuiltins: 'stub' });
    const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    for (const f of await readdir(wasmDir)) if (f.endsWith('.wasm')) await cp(join(wasmDir, f), join(dir, f));
    isolated = await serveDir(dir, { isolated: true });
    plain = await serveDir(dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    await plain?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("'auto' passes over emulated GPUs (this machine has none) to wasm, saying why; asked by name, they are used", async () => {
    const page = await open(isolated);
    try {
      const info = await call(page, 'init', { wasmPaths: `${isolated.url}/` });
      expect(info.name).toBe('wasm');
      expect(info.skipped.map((s) => s.backend)).toEqual(['webgpu', 'webgl']);
      expect(info.skipped[0]!.reason).toMatch(/software WebGPU adapter, slower than wasm for training; ask for it with prefer: 'webgpu'|no WebGPU adapter|navigator.gpu is undefined/);
      expect(info.skipped[1]!.reason).toMatch(/^WebGL runs on a software renderer \(.*SwiftShader.*\), slower than wasm for training; ask for it with prefer: 'webgl'$/);
      const webgl = await call(page, 'init', { prefer: 'webgl' });
      expect(webgl).toMatchObject({ name: 'webgl', skipped: [], notes: ['WebGL 2', 'software renderer'] });
    } finally {
      await page.close();
    }
  });

  it('wasm: the threaded SIMD binary when cross-origin isolated, the SIMD one and a note otherwise', async () => {
    const req: string[] = [];
    const page = await open(isolated, req);
    const info = await call(page, 'init', { prefer: 'wasm', wasmPaths: `${isolated.url}/` });
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.close();
    expect(req.some((u) => u.endsWith('/tfjs-backend-wasm-threaded-simd.wasm'))).toBe(true);
    expect(info.notes).toContain('SIMD');
    // tfjs' wasm uses at most hardwareConcurrency / 2 threads (it assumes two hyperthreads per core).
    expect(info.threads).toBe(Math.max(1, Math.min(8, Math.floor(cores / 2))));
    expect(info.kernels).toContain('Conv2DBackpropFilter');

    const req2: string[] = [];
    const page2 = await open(plain, req2);
    const info2 = await call(page2, 'init', { prefer: 'wasm', wasmPaths: `${plain.url}/` });
    await page2.close();
    expect(req2.some((u) => u.endsWith('/tfjs-backend-wasm-simd.wasm'))).toBe(true);
    expect(info2.threads).toBe(1);
    expect(info2.notes.join()).toMatch(/single-threaded: the page is not cross-origin isolated/);
  });

  it('wasm with wasmPaths where no .wasm is served: a clear error naming wasmPaths', async () => {
    const page = await open(plain);
    try {
      const err = await page.evaluate(async (u) => {
        try {
          await (globalThis as unknown as { backendTest: PageApi }).backendTest.init({ prefer: 'wasm', wasmPaths: `${u}/nowhere/` });
          return 'no error';
        } catch (e) {
          return String((e as Error).message);
        }
      }, plain.url);
      expect(err).toMatch(/prefer: 'wasm' cannot be met: the wasm backend \(wasmPaths .*nowhere.*\) failed to initialise/);
    } finally {
      await page.close();
    }
  });

  for (const backend of ['webgpu', 'webgl', 'wasm'] as const) {
    it(`${backend}: the U-Net's op gradients match closed forms and the cpu backend; training leaks nothing`, async (ctx) => {
      const page = await open(isolated);
      try {
        let info: BackendInfo;
        try {
          info = await call(page, 'init', { prefer: backend, wasmPaths: `${isolated.url}/` });
        } catch (e) {
          // Only WebGPU may be missing (no adapter in this Chromium build); WebGL and wasm must work.
          if (backend !== 'webgpu') throw e;
          console.log(`webgpu skipped: ${(e as Error).message}`);
          ctx.skip();
          return;
        }
        expect(info.name).toBe(backend);
        const tol = backend === 'wasm' ? 1e-4 : 2e-4;
        const checks = await call(page, 'checks', backend);
        expect(checks.length).toBeGreaterThan(45);
        for (const c of checks) {
          expect(c.error, `${backend}: ${c.name} against ${c.reference}`).toBeLessThan(tol);
          expect(c.scale, `${backend}: ${c.name} is all zeros`).toBeGreaterThan(1e-6);
        }
        const unet = await call(page, 'unetGradients', backend);
        expect(unet.length).toBeGreaterThan(20);
        for (const g of unet) {
          expect(g.error, `${backend}: U-Net ${g.name}`).toBeLessThan(tol);
          expect(g.scale, `${backend}: U-Net ${g.name} is all zeros`).toBeGreaterThan(0);
        }
        await call(page, 'init', { prefer: backend, wasmPaths: `${isolated.url}/` });
        const train = await call(page, 'trainSmallUnet', 6);
        expect(train.after).toBe(train.before);
        expect(train.losses.at(-1)!).toBeLessThan(train.losses[0]! * 0.8);
      } finally {
        await page.close();
      }
    }, 400_000); // SwiftShader compiles a shader per op and shape: about a minute for WebGL on two cores
  }
});
