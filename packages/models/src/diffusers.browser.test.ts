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
const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/diffusers-unet-tiny', import.meta.url));

describe.skipIf(skip !== undefined)('fromDiffusers in Chromium', () => {
  let dir: string;
  let server: ServedDir;
  let browser: Browser;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'models-diffusers-page-'));
    await bundlePage({ entry: fileURLToPath(new URL('../browser/diffusersPage.ts', import.meta.url)), outDir: dir });
    for (const f of ['config.json', 'diffusion_pytorch_model.safetensors', 'io.safetensors']) await cp(join(FIXTURE, f), join(dir, f));
    server = await serveDir(dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['cpu', 'webgl'])("%s: diffusers' output within 1e-3 of its standard deviation", async (backend) => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
      const r = await page.evaluate(
        ([url, b]) => (globalThis as unknown as { diffusersTest: { forwardError(u: string, b: string): Promise<{ backend: string; maxAbs: number; std: number }> } }).diffusersTest.forwardError(url, b),
        [server.url, backend] as const,
      );
      console.log(`Chromium ${r.backend}: max |ours - diffusers| = ${r.maxAbs.toExponential(3)}, relative ${(r.maxAbs / r.std).toExponential(3)}`);
      expect(r.backend).toBe(backend);
      expect(r.maxAbs / r.std).toBeLessThan(1e-3);
    } finally {
      await page.close();
    }
  });
});
