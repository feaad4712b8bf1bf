/**
 * Per-backend speed in headless Chromium (Debian's, driven by playwright-core):
 * one U-Net training step (Adam) and one forward pass, on WebGPU, WebGL and wasm.
 *
 *   npx tsx --conditions=source bench/browser.ts [--preset mnist-tiny] [--batch 32] [--steps 5] [--backends webgpu,webgl,wasm]
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundlePage, launchChromium, serveDir } from '../tools/browser.js';
import type { BenchRun } from './browser/page.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'mnist-tiny' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    backends: { type: 'string', default: 'webgpu,webgl,wasm' },
  },
});
const dir = await mkdtemp(join(tmpdir(), 'bench-browser-'));
// The models package's Node-only file helpers are bundled but never called.
await bundlePage({ entry: fileURLToPath(new URL('./browser/page.ts', import.meta.url)), outDir: dir, nodeBuiltins: 'stub' });
const req = createRequire(fileURLToPath(new URL('../packages/backend/package.json', import.meta.url)));
const wasmDir = dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
for (const f of await readdir(wasmDir)) if (f.endsWith('.wasm')) await cp(join(wasmDir, f), join(dir, f));
const server = await serveDir(dir, { isolated: true });
console.log(`${values.preset}, batch ${values.batch}, mean of ${values.steps} steps after 2 warm-up steps`);
console.log('| backend | notes | train ms/step | train img/s | forward ms | forward img/s |');
console.log('|---|---|---|---|---|---|');
try {
  for (const backend of values.backends.split(',')) {
    // A browser per backend: a GPU-process crash on one does not end the others.
    const browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    try {
      const r = await page.evaluate(
        (o: Parameters<BenchRun>[0]) => globalThis.bench.run(o),
        { backend, preset: values.preset, batch: Number(values.batch), steps: Number(values.steps), wasmPaths: `${server.url}/` },
      );
      const notes = [...r.info.notes, `${r.info.threads} thread${r.info.threads === 1 ? '' : 's'}`].join(', ');
      console.log(`| ${r.info.name} (Chromium ${browser.version()}) | ${notes} | ${r.trainMs.toFixed(0)} | ${r.trainImgPerS.toFixed(1)} | ${r.forwardMs.toFixed(0)} | ${r.forwardImgPerS.toFixed(1)} |`);
    } catch (e) {
      console.log(`| ${backend} | failed: ${(e as Error).message.split('\n')[0]} | | | | |`);
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
