/**
 * The built playground page in headless Chromium: samples equal Node's for the
 * same checkpoint and seed (wasm and WebGL), training in the tab lowers the
 * loss and downloads a model folder, a user's model folder loads (picker and
 * drop), bad files get a clear message on the page, and a lost sampling worker
 * is stopped while the page samples its images itself.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { createModel, decodeSafetensors, encodeSafetensors, loadWeights, modelTensors, unetPreset } from '@tfjs-diffusion/models';
import { ddim, sample } from '@tfjs-diffusion/samplers';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium, serveDir, type ServedDir } from '../../../tools/browser.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const shipped = join(app, 'public', 'models', 'mnist-tiny');
const skip = browserSkipReason();
if (skip) console.log(skip);

type Api = { samples?: number[]; msPerStep?: number; losses: number[]; backend?: string; samplers: string[]; error?: string; numTensors: number };

async function waitState(page: Page, states: string[], key = 'state', timeout = 240_000): Promise<string> {
  await page.waitForFunction(({ states, key }) => states.includes(document.body.dataset[key] ?? ''), { states, key }, { timeout });
  return page.evaluate((key) => document.body.dataset[key]!, key);
}

/** Waits for one of `states`; a different outcome than `want` fails with the page's own error message. */
async function expectState(page: Page, want: string, states: string[], key = 'state', what = ''): Promise<void> {
  const got = await waitState(page, states, key);
  if (got !== want) {
    const error = await page.evaluate(() => document.getElementById('error')?.textContent ?? '');
    expect.fail(`${what}${what ? ': ' : ''}page ${key} is '${got}', expected '${want}'; #error says: ${error}`);
  }
}

async function api(page: Page): Promise<Api> {
  return page.evaluate(() => {
    const p = (window as unknown as { playground: { samples?: Float32Array } & Omit<Api, 'samples'> }).playground;
    return { ...p, samples: p.samples ? Array.from(p.samples) : undefined };
  });
}

/** What Node computes from the shipped checkpoint: the same sampler, spacing, guidance and seed as the page. */
async function nodeSamples(q: { cls: number; steps: number; guidance: number; seed: number; n: number }): Promise<Float32Array> {
  const config = JSON.parse(await readFile(join(shipped, 'config.json'), 'utf8'));
  const model = createModel(config.model);
  const file = decodeSafetensors(await readFile(join(shipped, 'model.safetensors')), 'model.safetensors');
  loadWeights(model, file.tensors as never);
  const labels = tf.tensor1d(Array.from({ length: q.n }, () => q.cls), 'int32');
  try {
    const out = await sample(model, ddim({ timestepSpacing: 'trailing', eta: 0 }), {
      schedule: makeSchedule(config.demo.schedule),
      shape: [q.n, 28, 28, 1],
      numInferenceSteps: q.steps,
      seed: q.seed,
      cond: { classLabels: labels },
      guidance: { guidanceScale: q.guidance, nullClass: config.dataset.numClasses },
    });
    const data = (await out.samples.data()) as Float32Array;
    tf.dispose([out.samples, ...out.intermediates, ...out.predictions]);
    return data;
  } finally {
    labels.dispose();
    model.dispose();
  }
}

describe.skipIf(skip !== undefined)('playground page in Chromium', () => {
  let out: string;
  let server: ServedDir;
  let browser: Browser;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'playground-'));
    // The page as `npx -y pnpm@10 playground` builds it.
    await promisify(execFile)(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', join(out, 'dist'), '--emptyOutDir', '--logLevel', 'error'], { cwd: app });
    server = await serveDir(join(out, 'dist'), { isolated: true });
    browser = await launchChromium();
    await initBackend({ prefer: 'wasm', quiet: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  const query = { cls: 3, steps: 5, guidance: 3, seed: 1, n: 4 };
  for (const backend of ['wasm', 'webgl'] as const) {
    it(`samples for a fixed seed equal Node's on ${backend} (URL automation)`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${server.url}/index.html?class=${query.cls}&sampler=ddim&steps=${query.steps}&guidance=${query.guidance}&seed=${query.seed}&n=${query.n}&backend=${backend}`);
        await expectState(page, 'done', ['done', 'error']);
        const got = await api(page);
        expect(got.error).toBeUndefined();
        expect(got.backend).toBe(backend);
        const ms = Number(await page.evaluate(() => document.body.dataset.msPerStep));
        expect(ms).toBeGreaterThan(0);
        // n cells of 28×28 with a 1-pixel gap on <canvas id="samples">.
        const canvas = await page.evaluate(() => {
          const c = document.getElementById('samples') as HTMLCanvasElement;
          return { w: c.width, h: c.height, cells: Number(c.dataset.cells) };
        });
        expect(canvas).toEqual({ w: 2 * 29 - 1, h: 2 * 29 - 1, cells: 4 });
        const want = await nodeSamples(query);
        expect(got.samples!.length).toBe(want.length);
        let maxDiff = 0;
        let scale = 0;
        for (let i = 0; i < want.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(got.samples![i]! - want[i]!));
          scale = Math.max(scale, Math.abs(want[i]!));
        }
        console.log(`playground ${backend}: max |page − node| = ${maxDiff.toExponential(2)} (max |x| ${scale.toFixed(2)}), ${ms} ms/step`);
        // Float32 rounding differences between backends, carried through the steps.
        expect(maxDiff).toBeLessThan(backend === 'wasm' ? 1e-4 : 2e-3);
      } finally {
        await page.close();
      }
    });
  }

  // Workers sample rows of the batch; every random draw is the whole batch's, so the images are one thread's, bit for bit.
  for (const q of [
    { sampler: 'ddim', threshold: 'dynamic', cls: 'all', eta: 0 },
    { sampler: 'eulerAncestral', threshold: 'none', cls: '7', eta: 1 },
  ]) {
    it(`wasm with workers: the page's ${q.sampler} samples equal one thread's for the same seed`, async () => {
      const run = async (threads: number) => {
        const page = await browser.newPage();
        try {
          await page.goto(`${server.url}/index.html?backend=wasm&sampler=${q.sampler}&threshold=${q.threshold}&class=${q.cls}&eta=${q.eta}&steps=6&guidance=2&seed=11&n=5&threads=${threads}`);
          await expectState(page, 'done', ['done', 'error'], 'state', `threads=${threads}`);
          const got = await api(page);
          const attr = await page.evaluate(() => ({ threads: document.body.dataset.samplingThreads, ms: Number(document.body.dataset.msPerStep), isolated: crossOriginIsolated }));
          return { samples: Float32Array.from(got.samples!), ...attr };
        } finally {
          await page.close();
        }
      };
      const one = await run(1);
      const three = await run(3);
      expect(one.isolated).toBe(true);
      expect(one.threads).toBe('1');
      // 5 rows over 3 threads: the page 2, two workers 2 and 1.
      expect(three.threads).toBe('3');
      console.log(`playground wasm ${q.sampler}, 5 images: ${one.ms} ms/step on 1 thread, ${three.ms} ms/step on 3`);
      expect(three.samples.length).toBe(5 * 28 * 28);
      expect(one.samples.some((v) => v !== 0)).toBe(true);
      expect(Buffer.from(three.samples.buffer).equals(Buffer.from(one.samples.buffer))).toBe(true);
    });
  }

  it("a sampling worker's error shows in the page's error box", async () => {
    const page = await browser.newPage();
    try {
      // The worker script replaced by one that answers every request with an error, as a failing sample() does.
      await page.route(/sampleWorker[^/]*\.js$/, (route) => route.fulfill({
        status: 200, contentType: 'text/javascript', headers: { 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Opener-Policy': 'same-origin' }, body: "self.onmessage = (e) => postMessage({ type: 'error', id: e.data.id, message: 'no wasm here' });",
      }));
      await page.goto(`${server.url}/index.html?backend=wasm&class=3&steps=2&n=3&threads=2`);
      await expectState(page, 'error', ['done', 'error']);
      const text = await page.evaluate(() => document.getElementById('error')!.textContent);
      expect(text).toBe('sampling failed: sampling worker: no wasm here');
    } finally {
      await page.close();
    }
  });

  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    return d;
  };
  const sampling = (page: Page) => page.workers().filter((w) => /sampleWorker/.test(w.url()));
  const lostQuery = { cls: 3, steps: 2, guidance: 3, seed: 1, n: 3 };
  const lostUrl = () => `${server.url}/index.html?backend=wasm&sampler=ddim&class=${lostQuery.cls}&steps=${lostQuery.steps}&guidance=${lostQuery.guidance}&seed=${lostQuery.seed}&n=${lostQuery.n}&threads=2`;

  it('a sampling worker that goes silent is stopped after the silence bound; the page samples its images and then samples alone', async () => {
    const page = await browser.newPage();
    try {
      // A worker that sets up, reports once on 'sample', then never answers (as one killed by the browser would).
      await page.route(/sampleWorker[^/]*\.js$/, (route) => route.fulfill({
        status: 200, contentType: 'text/javascript', headers: { 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Opener-Policy': 'same-origin' },
        body: "self.onmessage = (e) => postMessage({ type: e.data.type === 'sample' ? 'alive' : 'ok', id: e.data.id });",
      }));
      await page.goto(`${lostUrl()}&autostart=0`);
      await expectState(page, 'ready', ['ready', 'error']);
      const tensors = (await api(page)).numTensors;
      const t0 = Date.now();
      await page.click('#sample-button');
      await expect.poll(() => sampling(page).length).toBe(1);
      await expectState(page, 'done', ['done', 'error']);
      const waited = Date.now() - t0;
      // Steps of a few ms here: the bound is its floor, 30 s.
      expect(waited).toBeGreaterThan(29_000);
      expect(await page.isVisible('#error')).toBe(true);
      expect(await page.textContent('#error')).toMatch(/^sampling worker lost: sampling worker 1 did not answer 'sample' \(image 3 of 3\) for 3\d s\. It was stopped and the page sampled its images itself; .*\?threads=1/);
      await expect.poll(() => sampling(page).length).toBe(0);
      const got = await api(page);
      expect(await page.evaluate(() => document.body.dataset.samplingThreads)).toBe('1');
      expect(got.numTensors).toBe(tensors);
      // All three images, the worker's row sampled on the page: what Node computes for the whole batch.
      const want = await nodeSamples(lostQuery);
      expect(maxDiff(got.samples!, want)).toBeLessThan(1e-4);

      // A later run samples on the page alone, starts no worker, and leaves no error.
      await page.click('#sample-button');
      await expectState(page, 'done', ['done', 'error']);
      expect(await page.isVisible('#error')).toBe(false);
      expect(sampling(page).length).toBe(0);
      const again = await api(page);
      expect(again.numTensors).toBe(tensors);
      expect(maxDiff(again.samples!, got.samples!)).toBe(0);
    } finally {
      await page.close();
    }
  }, 120_000);

  it("a worker's message the page cannot read (messageerror) gives the worker up at once; the page samples every image", async () => {
    const page = await browser.newPage();
    try {
      // Every message from a sampling worker arrives as a messageerror instead (as an undeserializable one does).
      await page.addInitScript(() => {
        const Real = Worker;
        globalThis.Worker = class extends Real {
          constructor(url: string | URL, opts?: WorkerOptions) {
            super(url, opts);
            if (!String(url).includes('sampleWorker')) return;
            this.addEventListener('message', (e) => {
              e.stopImmediatePropagation();
              this.dispatchEvent(new MessageEvent('messageerror'));
            });
          }
        };
      });
      await page.goto(lostUrl());
      await expectState(page, 'done', ['done', 'error']);
      expect(await page.textContent('#error')).toMatch(/^sampling worker lost: sampling worker 1 sent a message the page could not read \(messageerror\)\. It was stopped/);
      expect(await page.evaluate(() => document.body.dataset.samplingThreads)).toBe('1');
      await expect.poll(() => sampling(page).length).toBe(0);
      expect(maxDiff((await api(page)).samples!, await nodeSamples(lostQuery))).toBeLessThan(1e-4);
    } finally {
      await page.close();
    }
  });

  let downloaded: { config: Buffer; weights: Buffer } | undefined;

  it('trains in the tab: the loss falls, and the download is a model folder', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/index.html?backend=wasm&train=12&batch=16&previewEvery=0`);
      await expectState(page, 'trained', ['trained', 'error'], 'trainState');
      const { losses, error } = await api(page);
      expect(error).toBeUndefined();
      expect(losses.length).toBe(12);
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      // From random weights the v-prediction loss starts near 1 and falls within a few steps.
      expect(mean(losses.slice(-4))).toBeLessThan(0.8 * mean(losses.slice(0, 4)));
      const files = new Map<string, Buffer>();
      const got = new Promise<void>((resolve, reject) => {
        page.on('download', (d) => {
          d.path().then(async (p) => {
            files.set(d.suggestedFilename(), await readFile(p!));
            if (files.size === 2) resolve();
          }, reject);
        });
      });
      await page.click('#train-download');
      await got;
      expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
      downloaded = { config: files.get('config.json')!, weights: files.get('model.safetensors')! };
      const config = JSON.parse(downloaded.config.toString('utf8'));
      expect(config.model.kind).toBe('unet');
      expect(config.demo.steps).toBe(12);
      const model = createModel(config.model);
      try {
        // Strict: every parameter of the model, nothing else.
        expect(loadWeights(model, decodeSafetensors(downloaded.weights).tensors as never).length).toBe(model.parameters().length);
      } finally {
        model.dispose();
      }
      // The demo's CLI samples from the downloaded folder.
      const folder = join(out, 'downloaded');
      await mkdir(folder);
      await writeFile(join(folder, 'config.json'), downloaded.config);
      await writeFile(join(folder, 'model.safetensors'), downloaded.weights);
      const demo = join(app, '..', 'demo');
      const cli = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/cli.ts', 'sample', '--checkpoint', folder, '--steps', '2', '--n', '1', '--class', '4', '--out', join(out, 'cli-samples')], { cwd: demo });
      expect(cli.stdout).toMatch(/1 samples with ddim, 2 steps/);
      expect((await readdir(join(out, 'cli-samples'))).some((f) => f.endsWith('.png'))).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("loads a user's model folder from the file picker and by drag and drop, and samples with it", async () => {
    // A model the page has never seen: a narrower U-Net, saved as a bare model config + weights.
    const model = createModel(unetPreset('mnist-tiny', { blockOutChannels: [8, 8], predictionType: 'epsilon' }) as never, { seed: 7 });
    const dir = await mkdtemp(join(tmpdir(), 'user-model-'));
    const page = await browser.newPage();
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify(model.config));
      await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(modelTensors(model)));
      const params = model.parameters().reduce((a, p) => a + p.variable.size, 0).toLocaleString('en');
      await page.goto(`${server.url}/index.html?backend=wasm&autostart=0`);
      await expectState(page, 'ready', ['ready', 'error']);
      await page.setInputFiles('#file-input', [join(dir, 'config.json'), join(dir, 'model.safetensors')]);
      await expectState(page, 'ready', ['ready', 'error']);
      expect(await page.textContent('#model-info')).toContain(`${params} parameters`);
      await page.fill('#n', '3');
      await page.fill('#steps', '2');
      await page.click('#sample-button');
      await expectState(page, 'done', ['done', 'error']);
      expect((await api(page)).samples!.length).toBe(3 * 28 * 28);

      // A diffusers UNet2DModel folder (the models package's fixture, when the shared fixtures are beside the repository).
      const fixture = join(app, '..', '..', '..', 'shared', 'fixtures', 'diffusers-unet-tiny');
      if (existsSync(join(fixture, 'config.json'))) {
        await page.setInputFiles('#file-input', [join(fixture, 'config.json'), join(fixture, 'diffusion_pytorch_model.safetensors')]);
        await expectState(page, 'ready', ['ready', 'error']);
        expect(await page.textContent('#model-info')).toMatch(/diffusers UNet2DModel \(702,499 parameters/);
        await page.fill('#n', '2');
        await page.click('#sample-button');
        await expectState(page, 'done', ['done', 'error']);
        expect((await api(page)).samples!.length).toBe(2 * 16 * 16 * 3);
      }

      // The folder trained in the tab, dropped onto the page.
      if (downloaded) {
        const d = downloaded;
        await page.evaluate(({ config, weights }) => {
          const dt = new DataTransfer();
          dt.items.add(new File([config], 'config.json'));
          dt.items.add(new File([new Uint8Array(weights)], 'model.safetensors'));
          document.getElementById('dropzone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        }, { config: d.config.toString('utf8'), weights: Array.from(d.weights) });
        await page.waitForFunction(() => /66,905 parameters/.test(document.getElementById('model-info')!.textContent ?? ''));
        expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
      }
    } finally {
      await page.close();
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a bad file gives a clear message on the page, and the page stays usable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bad-model-'));
    const page = await browser.newPage();
    const cases: [string, Record<string, string | Uint8Array>, RegExp][] = [
      ['not safetensors', { 'config.json': await readFile(join(shipped, 'config.json'), 'utf8'), 'model.safetensors': 'hello, world' }, /model\.safetensors: not a valid safetensors file/],
      ['not JSON', { 'config.json': '{ "model": ', 'model.safetensors': await readFile(join(shipped, 'model.safetensors')) }, /config\.json is not valid JSON/],
      ['wrong weights', { 'config.json': JSON.stringify(unetPreset('mnist-ref')), 'model.safetensors': await readFile(join(shipped, 'model.safetensors')) }, /do not fit the model/],
      ['no weights', { 'config.json': '{}' }, /needs config\.json and a \.safetensors file|needs model\.safetensors/],
    ];
    try {
      await page.goto(`${server.url}/index.html?backend=wasm&autostart=0`);
      await expectState(page, 'ready', ['ready', 'error']);
      for (const [what, files, message] of cases) {
        const paths: string[] = [];
        for (const [name, data] of Object.entries(files)) {
          await writeFile(join(dir, name), data);
          paths.push(join(dir, name));
        }
        await page.evaluate(() => (document.body.dataset.state = 'test'));
        await page.setInputFiles('#file-input', paths);
        await expectState(page, 'error', ['error', 'ready'], 'state', what);
        expect(await page.isVisible('#error'), what).toBe(true);
        expect(await page.textContent('#error'), what).toMatch(message);
        await rm(join(dir, 'model.safetensors'), { force: true });
      }
      // The shipped model is still the one in use: sampling works after the errors.
      await page.fill('#n', '2');
      await page.fill('#steps', '2');
      await page.click('#sample-button');
      await expectState(page, 'done', ['done', 'error']);
      expect(await page.isVisible('#error')).toBe(false);

      await page.goto(`${server.url}/index.html?backend=wasm&sampler=nope`);
      await expectState(page, 'error', ['done', 'error']);
      expect(await page.textContent('#error')).toMatch(/sampler must be one of ddim, /);
      await page.goto(`${server.url}/index.html?backend=wasm&eta=5`);
      await expectState(page, 'error', ['done', 'error']);
      expect(await page.textContent('#error')).toContain("URL parameter eta must be a number in [0, 1]; got '5'");
    } finally {
      await page.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
