/**
 * Measures the page's sampling speed on each backend in headless Chromium
 * (Debian's, through the project's harness), with the URL automation:
 * `?class=3&sampler=ddim&steps=25&guidance=3&seed=1&n=16&backend=<b>`,
 * and optionally takes the README's screenshot.
 *
 *   npx vite build && npx tsx --conditions=source scripts/bench.ts [--backends webgpu,webgl,wasm,cpu] [--screenshot ../../docs/playground.png]
 *
 * Prints one line per backend: ms per step (the page's own mean over the
 * run, which includes reading x̂0 back for the live preview) and wall time.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchChromium, serveDir } from '../../../tools/browser.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'webgpu,webgl,wasm,cpu' },
    query: { type: 'string', default: 'class=3&sampler=ddim&steps=25&guidance=3&seed=1&n=16' },
    screenshot: { type: 'string' },
    dist: { type: 'string', default: fileURLToPath(new URL('../dist', import.meta.url)) },
    timeout: { type: 'string', default: '900' },
  },
});

const server = await serveDir(values.dist, { isolated: true });
const browser = await launchChromium();
try {
  for (const backend of values.backends.split(',')) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const t0 = performance.now();
    await page.goto(`${server.url}/index.html?${values.query}&backend=${backend}`);
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: Number(values.timeout) * 1000 });
    const r = await page.evaluate(() => ({
      state: document.body.dataset.state,
      backend: document.body.dataset.backend,
      ms: document.body.dataset.msPerStep,
      info: document.getElementById('backend-info')?.textContent,
      skipped: document.getElementById('backend-info')?.title,
      error: document.getElementById('error')?.textContent,
    }));
    const wall = ((performance.now() - t0) / 1000).toFixed(1);
    if (r.state === 'done') console.log(`${backend}: ${r.ms} ms/step (page ${r.backend}; ${r.info}; load + sample ${wall} s)${r.skipped ? ` [${r.skipped}]` : ''}`);
    else console.log(`${backend}: error: ${r.error}`);
    await page.close();
  }
  if (values.screenshot) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 860 }, deviceScaleFactor: 1 });
    await page.goto(`${server.url}/index.html?backend=wasm&class=all&n=30&steps=25&guidance=3&seed=0`);
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 600_000 });
    await page.screenshot({ path: values.screenshot, fullPage: false });
    console.log(`screenshot: ${join(values.screenshot)}`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
