// fromDiffusers in Chromium: a diffusers folder loaded from fetch (text and
// ArrayBuffer) gives diffusers' output on the cpu and WebGL backends.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundlePage, launchChromium, serveDir, type ServedDir } from '../../../tools/browser.js';

const skip = browserSkipReason();
if (skip) console.log(skip);

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
const MODELS = ['diffusers-unet-tiny', 'diffusers-unet2dcondition-tiny'];

describe.skipIf(skip !== undefined)('fromDiffusers in Chromium', () => {
  let dir: string;
  let server: ServedDir;
  let browser: Browser;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'models-diffusers-page-'));
    await bundlePage({ entry: fileURLToPath(new URL('../browser/diffusersPage.ts', import.meta.url)), outDir: dir });
    for (const m of MODELS) for (const f of ['config.json', 'diffusion_pytorch_model.safetensors', 'io.safetensors']) await cp(join(FIXTURES, m, f), join(dir, m, f), { recursive: true });
    server = await serveDir(dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(MODELS.flatMap((m) => ['cpu', 'webgl'].map((b) => [m, b])))("%s on %s: diffusers' output within 1e-3 of its standard deviation", async (model, backend) => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
      const r = await page.evaluate(
        ([url, b]) => (globalThis as unknown as { diffusersTest: { forwardError(u: string, b: string): Promise<{ backend: string; maxAbs: number; std: number }> } }).diffusersTest.forwardError(url, b),
        [`${server.url}/${model}`, backend] as const,
      );
      console.log(`Chromium ${r.backend}, ${model}: max |ours - diffusers| = ${r.maxAbs.toExponential(3)}, relative ${(r.maxAbs / r.std).toExponential(3)}`);
      expect(r.backend).toBe(backend);
      expect(r.maxAbs / r.std).toBeLessThan(1e-3);
    } finally {
      await page.close();
    }
  });
});
