/**
 * Colour in the built playground page (headless Chromium, wasm): a folder of
 * the user's PNGs (made here, two classes, one corrupt file) picked or dropped
 * trains a class-conditional model whose sample grids are in colour at the
 * chosen size, the corrupt file is named on the page, the download samples
 * in the page and the CLI, a bad folder gets a message, and a colour model
 * folder samples what Node samples.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { createModel, encodeSafetensors, modelTensors, unetPreset } from '@tfjs-diffusion/models';
import { ddim, sample } from '@tfjs-diffusion/samplers';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium, serveDir, type ServedDir } from '../../../tools/browser.js';

/** What the page puts on window for automation (src/page.ts). */
type Playground = { playground: { samples?: Float32Array; numTensors: number } };

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const skip = browserSkipReason();
if (skip) console.log(skip);

async function waitFor(page: Page, key: string, states: string[], timeout = 240_000): Promise<string> {
  await page.waitForFunction(({ states, key }) => states.includes(document.body.dataset[key] ?? ''), { states, key }, { timeout });
  return page.evaluate((key) => document.body.dataset[key]!, key);
}

/** Waits for `key` to reach one of `states`; another outcome than `want` fails with the page's own error message. */
async function expectData(page: Page, key: string, want: string, states: string[]): Promise<void> {
  const got = await waitFor(page, key, states);
  if (got !== want) expect.fail(`page ${key} is '${got}', expected '${want}'; #error says: ${await page.textContent('#error')}`);
}

/** A canvas's size, cells, and the mean |R − G| + |G − B| over its pixels (0 for grey). */
function canvasColour(page: Page, id: string) {
  return page.evaluate((id) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let spread = 0;
    for (let i = 0; i < d.length; i += 4) spread += Math.abs(d[i]! - d[i + 1]!) + Math.abs(d[i + 1]! - d[i + 2]!);
    return { width: c.width, height: c.height, cells: Number(c.dataset.cells), cols: Number(c.dataset.cols), spread: spread / (d.length / 4) };
  }, id);
}

/** PNGs drawn by the browser's own encoder: `w`×`h`, a colour gradient around `rgb`. */
function makePngs(page: Page, specs: { rgb: [number, number, number]; w: number; h: number }[]): Promise<number[][]> {
  return page.evaluate(async (specs) => {
    const out: number[][] = [];
    for (const { rgb, w, h } of specs) {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext('2d')!;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          g.fillStyle = `rgb(${rgb[0]}, ${Math.round(rgb[1] * (x / w))}, ${rgb[2]})`;
          g.fillRect(x, y, 1, 1);
        }
      }
      out.push(Array.from(new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer())));
    }
    return out;
  }, specs);
}

describe.skipIf(skip !== undefined)('playground: colour images in Chromium', () => {
  let out: string;
  let server: ServedDir;
  let browser: Browser;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'playground-colour-'));
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

  const open = async (page: Page) => {
    await page.goto(`${server.url}/index.html?backend=wasm&autostart=0&threads=1`);
    await expectData(page, 'state', 'ready', ['ready', 'error']);
  };

  it('a picked folder of colour PNGs in two classes trains a class-conditional model at the chosen size; its grids are in colour; the corrupt file is named; the download samples', async () => {
    const page = await browser.newPage();
    const pets = join(out, 'pets');
    try {
      await open(page);
      // Non-square, larger than the resolution: resized by the shorter side, then centre-cropped.
      const red = await makePngs(page, Array.from({ length: 4 }, () => ({ rgb: [230, 60, 20] as [number, number, number], w: 24, h: 20 })));
      const blue = await makePngs(page, Array.from({ length: 4 }, () => ({ rgb: [20, 90, 220] as [number, number, number], w: 20, h: 24 })));
      for (const [cls, pngs] of [['red', red], ['blue', blue]] as const) {
        await mkdir(join(pets, cls), { recursive: true });
        for (const [i, png] of pngs.entries()) await writeFile(join(pets, cls, `${i}.png`), Uint8Array.from(png));
      }
      await writeFile(join(pets, 'blue', 'broken.png'), 'not a png at all');
      await page.fill('#train-resolution', '16');
      await page.setInputFiles('#train-folder-input', pets);
      await expectData(page, 'trainData', 'folder', ['folder', 'error']);
      expect(await page.textContent('#train-data-info')).toBe('folder pets: 8 images at 16×16 RGB, 2 classes (blue, red): class-conditional');
      expect(await page.isVisible('#train-skipped')).toBe(true);
      expect(await page.textContent('#train-skipped-count')).toBe('1 file skipped:');
      expect(await page.textContent('#train-skipped-list')).toBe('pets/blue/broken.png: not a PNG or JPEG (unrecognised signature)');

      await page.fill('#train-steps', '4');
      await page.fill('#train-batch', '4');
      await page.fill('#train-preview-every', '2');
      await page.click('#train-button');
      await expectData(page, 'trainState', 'trained', ['trained', 'error']);
      const progress = await page.textContent('#train-status');
      console.log(`playground colour training, 16×16 RGB, batch 4: ${progress}`);
      expect(progress).toMatch(/^step 4\/4 · loss \d\.\d{4} · \d+\.\d img\/s on wasm · 0 s to go$/);
      // One column per class, two rows of 16×16 cells with a 1-pixel gap, in colour.
      const grid = await canvasColour(page, 'train-samples');
      expect([grid.width, grid.height, grid.cells, grid.cols]).toEqual([2 * 17 - 1, 2 * 17 - 1, 4, 2]);
      expect(grid.spread).toBeGreaterThan(5);
      expect(await page.textContent('#train-samples-caption')).toBe('samples of the EMA weights at step 4 (DDIM, 25 steps, guidance 3, one column per class)');

      // The download: the same writer as MNIST training; 3 channels at 16 px, 2 named classes.
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
      const config = JSON.parse(files.get('config.json')!.toString('utf8'));
      expect([config.model.sampleSize, config.model.inChannels, config.model.outChannels, config.model.numClasses]).toEqual([16, 3, 3, 2]);
      expect(config.dataset).toEqual({ numClasses: 2, height: 16, width: 16, channels: 3, classNames: ['blue', 'red'] });
      expect([config.demo.dataset, config.demo.resolution, config.demo.centerCrop, config.demo.classConditional]).toEqual(['folder', 16, true, true]);
      // The demo's CLI samples from it (the class by its folder's name): a colour PNG grid.
      const folder = join(out, 'downloaded');
      await mkdir(folder);
      await writeFile(join(folder, 'config.json'), files.get('config.json')!);
      await writeFile(join(folder, 'model.safetensors'), files.get('model.safetensors')!);
      const cli = await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/cli.ts', 'sample', '--checkpoint', folder, '--steps', '2', '--n', '2', '--class', 'red', '--out', join(out, 'cli-samples')], { cwd: join(app, '..', 'demo') });
      expect(cli.stdout).toMatch(/2 samples with ddim, 2 steps/);
      expect((await readdir(join(out, 'cli-samples'))).some((f) => f.endsWith('.png'))).toBe(true);

      // Dropped back onto the Model section, it samples a colour grid of 16×16 cells, one column per class.
      await page.evaluate(({ config, weights }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([config], 'config.json'));
        dt.items.add(new File([new Uint8Array(weights)], 'model.safetensors'));
        document.getElementById('dropzone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, { config: files.get('config.json')!.toString('utf8'), weights: Array.from(files.get('model.safetensors')!) });
      await page.waitForFunction(() => /16×16×3, 2 classes/.test(document.getElementById('model-info')!.textContent ?? ''));
      expect(await page.evaluate(() => Array.from((document.getElementById('class') as HTMLSelectElement).options, (o) => o.textContent))).toEqual(['every class (one column each)', '0: blue', '1: red']);
      await page.fill('#n', '6');
      await page.fill('#steps', '3');
      await page.click('#sample-button');
      await expectData(page, 'state', 'done', ['done', 'error']);
      const samples = await canvasColour(page, 'samples');
      expect([samples.width, samples.height, samples.cells, samples.cols]).toEqual([2 * 17 - 1, 3 * 17 - 1, 6, 2]);
      expect(samples.spread).toBeGreaterThan(5);
      expect(await page.evaluate(() => (window as unknown as Playground).playground.samples!.length)).toBe(6 * 16 * 16 * 3);
    } finally {
      await page.close();
    }
  }, 300_000);

  it('a dropped folder is walked by its entries (class subfolders), grey is a choice, and a folder without images gets a message', async () => {
    const page = await browser.newPage();
    try {
      await open(page);
      const pngs = await makePngs(page, [{ rgb: [200, 30, 30], w: 32, h: 32 }, { rgb: [30, 200, 30], w: 40, h: 32 }, { rgb: [30, 30, 200], w: 32, h: 48 }]);
      // The entries API as a drop of real folders gives it: directory readers that answer in batches, then [].
      const drop = (tree: Record<string, Record<string, number[] | string>>) => page.evaluate((tree) => {
        const dir = (path: string, children: FileSystemEntry[]) => ({
          isFile: false, isDirectory: true, fullPath: path, name: path.split('/').pop(),
          createReader: () => {
            let left = [children.slice(0, 2), children.slice(2), []];
            return { readEntries: (res: (e: FileSystemEntry[]) => void) => { res(left[0]!); left = left.slice(1); } };
          },
        }) as unknown as FileSystemEntry;
        const file = (path: string, data: number[] | string) => ({
          isFile: true, isDirectory: false, fullPath: path,
          file: (res: (f: File) => void) => res(new File([typeof data === 'string' ? data : new Uint8Array(data)], path.split('/').pop()!)),
        }) as unknown as FileSystemEntry;
        const root = dir('/shapes', Object.entries(tree).map(([sub, files]) => dir(`/shapes/${sub}`, Object.entries(files).map(([name, data]) => file(`/shapes/${sub}/${name}`, data)))));
        const ev = new Event('drop', { bubbles: true, cancelable: true });
        Object.defineProperty(ev, 'dataTransfer', { value: { items: [{ webkitGetAsEntry: () => root }], files: [] } });
        document.body.dataset.trainData = 'test';
        document.getElementById('train-dropzone')!.dispatchEvent(ev);
      }, tree);
      await drop({ a: { '1.png': pngs[0]!, '2.png': pngs[1]!, '3.png': pngs[2]! }, b: { '1.png': pngs[2]!, 'bad.png': [0x89, 0x50, 0x4e, 0x47, 1, 2, 3], '2.png': pngs[0]! } });
      await expectData(page, 'trainData', 'folder', ['folder', 'error']);
      expect(await page.textContent('#train-data-info')).toBe('folder shapes: 5 images at 32×32 RGB, 2 classes (a, b): class-conditional');
      expect(await page.textContent('#train-skipped-count')).toBe('1 file skipped:');
      expect(await page.textContent('#train-skipped-list')).toMatch(/^shapes\/b\/bad\.png: /);
      expect(await page.evaluate(() => document.body.dataset.trainSkipped)).toBe('1');

      // Grey at 24 px: read again.
      await page.fill('#train-resolution', '24');
      await page.evaluate(() => (document.body.dataset.trainData = 'test'));
      await page.selectOption('#train-channels', '1');
      await expectData(page, 'trainData', 'folder', ['folder', 'error']);
      expect(await page.textContent('#train-data-info')).toBe('folder shapes: 5 images at 24×24 grey, 2 classes (a, b): class-conditional');
      // A size the network cannot halve twice: named, on the page.
      await page.fill('#train-resolution', '30');
      await page.evaluate(() => (document.body.dataset.trainData = 'test'));
      await page.dispatchEvent('#train-resolution', 'change');
      await expectData(page, 'trainData', 'error', ['folder', 'error']);
      expect(await page.textContent('#error')).toBe('this folder cannot be trained on: resolution must be an integer from 16 to 128 and a multiple of 4 (the network halves it 2 times); got 30');
      await page.fill('#train-resolution', '24');

      // No images: a message, on the page.
      await drop({ docs: { 'notes.txt': 'hello' } });
      await expectData(page, 'trainData', 'error', ['folder', 'error']);
      expect(await page.textContent('#error')).toBe('this folder cannot be trained on: your images: no .png, .jpg or .jpeg files');
      expect(await page.textContent('#train-data-info')).toMatch(/^folder shapes: nothing to train on/);
      expect(await page.isVisible('#train-skipped')).toBe(false);
      // Only corrupt images: named.
      await drop({ x: { 'a.png': 'junk' } });
      await expectData(page, 'trainData', 'error', ['folder', 'error']);
      expect(await page.textContent('#error')).toMatch(/^this folder cannot be trained on: your images: none of the 1 images could be read \(first: shapes\/x\/a\.png: /);
      // An empty folder.
      await drop({});
      await expectData(page, 'trainData', 'error', ['folder', 'error']);
      expect(await page.textContent('#error')).toMatch(/^this folder cannot be trained on: the folder is empty/);
      // Training then says why, and the page still samples.
      await page.click('#train-button');
      await expectData(page, 'trainState', 'error', ['trained', 'error']);
      expect(await page.textContent('#error')).toMatch(/^training failed: the folder is empty/);
      await page.click('#train-use-mnist');
      expect(await page.evaluate(() => document.body.dataset.trainData)).toBe('mnist');
    } finally {
      await page.close();
    }
  }, 300_000);

  it('a colour model folder (3 channels, 32 px; 4 channels, 24 px) samples a colour grid of its size; the RGB one equals Node', async () => {
    const page = await browser.newPage();
    const dir = join(out, 'colour-model');
    const models = [
      createModel(unetPreset('mnist-tiny', { sampleSize: 32, inChannels: 3, outChannels: 3, numClasses: null }), { seed: 3 }),
      createModel(unetPreset('mnist-tiny', { sampleSize: 24, inChannels: 4, outChannels: 4, numClasses: null }), { seed: 4 }),
    ];
    try {
      await open(page);
      for (const [i, model] of models.entries()) {
        const [size, c] = i === 0 ? [32, 3] : [24, 4];
        await mkdir(join(dir, String(i)), { recursive: true });
        await writeFile(join(dir, String(i), 'config.json'), JSON.stringify(model.config));
        await writeFile(join(dir, String(i), 'model.safetensors'), encodeSafetensors(modelTensors(model)));
        await page.evaluate(() => (document.body.dataset.state = 'test'));
        await page.setInputFiles('#file-input', [join(dir, String(i), 'config.json'), join(dir, String(i), 'model.safetensors')]);
        await expectData(page, 'state', 'ready', ['ready', 'error']);
        expect(await page.textContent('#model-info')).toContain(`${size}×${size}×${c}, unconditional`);
        await page.fill('#n', '3');
        await page.fill('#steps', '2');
        await page.fill('#seed', '5');
        const tensors = await page.evaluate(() => (window as unknown as Playground).playground.numTensors);
        await page.click('#sample-button');
        await expectData(page, 'state', 'done', ['done', 'error']);
        // Sampling leaves no tensor behind.
        expect(await page.evaluate(() => (window as unknown as Playground).playground.numTensors)).toBe(tensors);
        const grid = await canvasColour(page, 'samples');
        expect([grid.width, grid.height, grid.cells, grid.cols]).toEqual([2 * (size + 1) - 1, 2 * (size + 1) - 1, 3, 2]);
        expect(grid.spread).toBeGreaterThan(5);
        const got = await page.evaluate(() => Array.from((window as unknown as Playground).playground.samples!));
        expect(got.length).toBe(3 * size * size * c);
        if (c !== 3) continue;
        // A bare model config: DDPM's linear schedule; unconditional, so no guidance.
        const res = await sample(model, ddim({ timestepSpacing: 'trailing', eta: 0 }), {
          schedule: makeSchedule({ numTrainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 }), shape: [3, 32, 32, 3], numInferenceSteps: 2, seed: 5,
        });
        const want = (await res.samples.data()) as Float32Array;
        tf.dispose([res.samples, ...res.intermediates, ...res.predictions]);
        let maxDiff = 0;
        for (let k = 0; k < want.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k]! - want[k]!));
        expect(maxDiff).toBeLessThan(1e-4);
      }
    } finally {
      await page.close();
      for (const m of models) m.dispose();
    }
  }, 300_000);
});
