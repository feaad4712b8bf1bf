// The training main entry in real Chromium: steps, fit, EMA, validation and a
// checkpoint through bytes, with no Node module reachable from the entry.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, bundlePage, launchChromium, serveDir, type ServedDir } from '../../../tools/browser.js';

const skip = browserSkipReason();
if (skip) console.log(skip);

describe.skipIf(skip !== undefined)('training in Chromium', () => {
  let dir: string;
  let server: ServedDir;
  let browser: Browser;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'training-page-'));
    // A node: import reachable from the main entry fails this bundle, as it would for a user.
    await bundlePage({ entry: fileURLToPath(new URL('../browser/trainingPage.ts', import.meta.url)), outDir: dir });
    server = await serveDir(dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const backend of ['cpu', 'webgl']) {
    it(`trains, validates and continues from a checkpoint's bytes on ${backend}`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${server.url}/index.html`);
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
        const r = await page.evaluate(
          ([b, n]) => (globalThis as unknown as { trainingTest: { run(b: string, n: number): Promise<Record<string, unknown>> } }).trainingTest.run(b, n),
          [backend, 60] as const,
        );
        expect(r.backend).toBe(backend);
        expect(r.after as number).toBeLessThan(0.8 * (r.before as number));
        expect(r.emaSource).toBe('ema');
        expect(r.stepAfterRestore).toBe(60);
        expect(r.restoreLeak).toBe(0);
        const [a, b] = r.next as number[];
        expect(Math.abs(a! - b!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(a!)));
      } finally {
        await page.close();
      }
    }, 120_000);
  }
});
