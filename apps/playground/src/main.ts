/**
 * The playground page: picks a backend, opens the shipped mnist-tiny
 * checkpoint (or the user's model folder), samples with every sampler of
 * @tfjs-diffusion/samplers showing x̂0 at every step, and trains mnist-tiny in
 * the tab. Every failure ends up in #error, never a blank page.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { applyParams, fillClassSelect, numberInput, readRequest, readTrainSettings } from './form.js';
import { drawGrid, type GridLayout } from './grid.js';
import { fetchDigits, type Digits } from './mnist.js';
import { disposeLoaded, fetchModelFolder, loadModelFolder, readDataTransfer, readFiles, type FolderFile, type LoadedModel } from './modelFolder.js';
import { parseParams, type PageParams } from './params.js';
import { api, $, clearError, download, scaleCanvas, setState, showError, showNotice, status } from './page.js';
import { drawLossPlot } from './plot.js';
import { findSampler } from '@tfjs-diffusion/samplers';
import { listSamplers, sampleImages, SIGMA_PLANS, type Parallel, type SamplerEntry } from './sampling.js';
import { createInTabTrainer, type InTabTrainer, type RunConfig } from './training.js';
import { samplingThreads, WorkerPool } from './workers.js';

const SHIPPED = 'models/mnist-tiny';

window.addEventListener('error', (e) => showError(e.error ?? e.message, 'unexpected error'));
window.addEventListener('unhandledrejection', (e) => showError(e.reason, 'unexpected error'));

let params: PageParams;
let entries: SamplerEntry[] = [];
let shipped: LoadedModel | undefined;
let current: LoadedModel | undefined;
let busy = false;
let digits: Promise<Digits> | undefined;
let training: InTabTrainer | undefined;
let stopTraining = (): void => {};
/** Sampling workers (wasm, cross-origin isolated); started on the first run that uses them. */
let pool: WorkerPool | undefined;

function useModel(m: LoadedModel): void {
  if (current && current !== shipped && current !== m && !(training && current.model === training.model)) disposeLoaded(current);
  current = m;
  api.model = m.description;
  $('model-info').textContent = `${m.description}; ${m.height}×${m.width}×${m.channels}` +
    (m.numClasses !== undefined ? `, ${m.numClasses} classes` : ', unconditional') +
    (m.notes.length ? `. Note: ${m.notes.join('; ')}` : '');
  fillClassSelect(m);
  const demo = m.config.demo as { sampler?: { name?: string; steps?: number; guidance?: number; sigmas?: string } } | undefined;
  // A run config names the demo's sampler by its registry name (e.g. 'euler-a'): the same entry here.
  const named = demo?.sampler?.name !== undefined ? findSampler(demo.sampler.name) : undefined;
  if (named && entries.some((e) => e.id === named.factory)) $<HTMLSelectElement>('sampler').value = named.factory;
  if (demo?.sampler?.sigmas && (SIGMA_PLANS as readonly string[]).includes(demo.sampler.sigmas)) $<HTMLSelectElement>('sigmas').value = demo.sampler.sigmas;
  if (demo?.sampler?.steps) $<HTMLInputElement>('steps').value = String(demo.sampler.steps);
  if (demo?.sampler?.guidance !== undefined) $<HTMLInputElement>('guidance').value = String(demo.sampler.guidance);
}

async function runSampling(): Promise<void> {
  if (busy) return;
  busy = true;
  clearError();
  setState('sampling');
  const button = $<HTMLButtonElement>('sample-button');
  button.disabled = true;
  try {
    const m = current!;
    const r = readRequest(current);
    const layout: GridLayout = { n: r.n, cols: r.cols, height: m.height, width: m.width, channels: m.channels };
    const preview = $<HTMLCanvasElement>('preview');
    const threads = Math.min(samplingThreads(tf.getBackend(), params.threads), r.n);
    const parallel: Parallel | undefined = threads > 1 && pool ? { pool, threads } : undefined;
    const on = `${tf.getBackend()}${parallel ? ` (${threads} threads: the page and ${threads - 1} worker${threads > 2 ? 's' : ''})` : ''}`;
    status(`sampling ${r.n} images with ${r.sampler}, ${r.steps} steps on ${on}…`);
    const pixelsPerImage = m.height * m.width * m.channels;
    const res = await sampleImages(m, entries, r, async (i, n, x0, ms, [a, b]) => {
      // With workers the page holds only its own (first) rows during the run, then any rows of a lost worker.
      drawGrid(preview, x0, { ...layout, n: x0.length / pixelsPerImage });
      scaleCanvas(preview);
      const which = b - a === r.n ? '' : a === 0 ? `, the page's ${b} of ${r.n} images` : `, images ${a + 1}–${b} of ${r.n} on the page in place of a lost worker`;
      $('preview-caption').textContent = `x̂0 after step ${i + 1} of ${n} (${ms.toFixed(0)} ms/step)${which}`;
      await tf.nextFrame();
    }, parallel);
    const canvas = $<HTMLCanvasElement>('samples');
    drawGrid(canvas, res.pixels, layout);
    scaleCanvas(canvas);
    api.samples = res.pixels;
    api.msPerStep = res.msPerStep;
    api.threads = res.threads;
    document.body.dataset.msPerStep = res.msPerStep.toFixed(2);
    document.body.dataset.samplingThreads = String(res.threads);
    const label = entries.find((e) => e.id === r.sampler)?.label ?? r.sampler;
    $('samples-caption').textContent = `${r.n} samples: ${label}, ${r.steps} steps, guidance ${r.guidance}, threshold ${r.threshold}, seed ${r.seed}`;
    $('backend-info').textContent = `${backendLine} · ${res.msPerStep.toFixed(1)} ms/step on ${res.threads} thread${res.threads > 1 ? 's' : ''} (${r.n} images${r.labels && r.guidance !== 1 ? ', guided: 2 model evaluations per image' : ''})`;
    status(`done: ${r.n} images in ${((res.msPerStep * res.steps) / 1000).toFixed(1)} s, ${res.msPerStep.toFixed(1)} ms/step on ${res.workerLost ? `${tf.getBackend()} (the page's thread: a sampling worker was lost)` : on}`);
    if (res.workerLost) {
      showNotice(`sampling worker lost: ${res.workerLost}. It was stopped and the page sampled its images itself; until the page is reloaded it samples on its own thread (?threads=1 always does).`);
    }
    setState('done');
  } catch (e) {
    showError(e, 'sampling failed');
  } finally {
    // A pool that lost a worker has stopped them all: the page samples alone from now on.
    if (pool?.lost) pool = undefined;
    busy = false;
    button.disabled = false;
  }
}

async function openFolder(files: FolderFile[] | Promise<FolderFile[]>): Promise<void> {
  if (busy) {
    showError(new Error('wait for the current run to finish'), 'loading the model');
    return;
  }
  clearError();
  setState('loading');
  try {
    const list = await files;
    status(`reading ${list.map((f) => f.name).join(', ') || 'no files'}…`);
    const m = await loadModelFolder(list);
    useModel(m);
    status(`loaded ${m.description}`);
    setState('ready');
  } catch (e) {
    showError(e, 'this model folder cannot be loaded');
  }
}

// ---- training ----

async function previewTraining(t: InTabTrainer): Promise<void> {
  const canvas = $<HTMLCanvasElement>('train-samples');
  const n = 20;
  const res = await t.withEma((m) =>
    sampleImages(m, entries, { sampler: entries.some((e) => e.id === 'ddim') ? 'ddim' : entries[0]!.id, steps: 25, guidance: 3, threshold: 'none', seed: 42, n, labels: Array.from({ length: n }, (_, i) => i % 10) }),
  );
  drawGrid(canvas, res.pixels, { n, cols: 10, height: 28, width: 28, channels: 1 });
  scaleCanvas(canvas);
  $('train-samples-caption').textContent = `samples of the EMA weights at step ${t.trainer.step} (DDIM, 25 steps, guidance 3)`;
}

async function runTraining(): Promise<void> {
  if (busy) return;
  busy = true;
  clearError();
  const stop = new AbortController();
  stopTraining = () => stop.abort();
  const buttons = { start: $<HTMLButtonElement>('train-button'), stop: $<HTMLButtonElement>('train-stop'), use: $<HTMLButtonElement>('train-use'), dl: $<HTMLButtonElement>('train-download') };
  buttons.start.disabled = true;
  buttons.stop.disabled = false;
  buttons.use.disabled = buttons.dl.disabled = true;
  document.body.dataset.trainState = 'training';
  try {
    const s = readTrainSettings();
    const previewEvery = numberInput('train-preview-every');
    if (!shipped) throw new Error('the shipped checkpoint is not loaded, so the recipe is unknown');
    $('train-status').textContent = 'loading MNIST digits…';
    const d = await (digits ??= fetchDigits('data/mnist.bin.gz'));
    if (training) {
      if (current?.model === training.model) useModel(shipped);
      await training.dispose();
      training = undefined;
    }
    const t = await createInTabTrainer(shipped.config as unknown as RunConfig, d, s);
    training = t;
    api.losses = t.losses;
    const loss = $<HTMLCanvasElement>('loss');
    let trainMs = 0;
    drawLossPlot(loss, t.losses);
    await t.train({
      signal: stop.signal,
      onStep: async (e) => {
        // The rate of the steps alone: previews and frames are not training time.
        trainMs += e.stepSeconds * 1000;
        const done = e.step;
        $('train-status').textContent = `step ${done}/${s.steps} · loss ${e.loss.toFixed(4)} · ${((e.done * s.batchSize) / (trainMs / 1000)).toFixed(1)} img/s on ${tf.getBackend()}`;
        document.body.dataset.trainStep = String(done);
        if (done % 5 === 0 || done === s.steps) drawLossPlot(loss, t.losses);
        if (previewEvery > 0 && done % previewEvery === 0) await previewTraining(t);
      },
    });
    drawLossPlot(loss, t.losses);
    if (previewEvery > 0 && t.trainer.step % previewEvery !== 0) await previewTraining(t);
    document.body.dataset.trainState = 'trained';
    buttons.use.disabled = buttons.dl.disabled = false;
  } catch (e) {
    document.body.dataset.trainState = 'error';
    showError(e, 'training failed');
  } finally {
    busy = false;
    buttons.start.disabled = false;
    buttons.stop.disabled = true;
  }
}

async function downloadModelFolder(): Promise<void> {
  try {
    if (!training) throw new Error('train first');
    const { config, weights } = await training.modelFolder();
    download('config.json', config, 'application/json');
    await new Promise((r) => setTimeout(r, 300));
    download('model.safetensors', weights as BlobPart, 'application/octet-stream');
    $('train-status').textContent += ' · downloaded config.json and model.safetensors: put them in one folder; `cli sample --checkpoint <folder>` reads it';
  } catch (e) {
    showError(e, 'download failed');
  }
}

// ---- start-up ----

let backendLine = '';

async function startBackend(choice: PageParams['backend']): Promise<void> {
  const wasmPaths = new URL('wasm/', location.href).href;
  // wasm: one thread per core (tfjs' own default is half the cores); used when the page is cross-origin isolated.
  const threads = Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
  // tfjs' WebGPU backend registers itself on import; load it only where WebGPU exists.
  if ('gpu' in navigator && (choice === 'auto' || choice === 'webgpu')) await import('@tensorflow/tfjs-backend-webgpu');
  const i = await initBackend({ prefer: choice, wasmPaths, threads, quiet: true });
  api.backend = i.name;
  if (i.name === 'wasm' && crossOriginIsolated) pool = new WorkerPool(wasmPaths);
  document.body.dataset.backend = i.name;
  backendLine = `backend: ${i.name}${i.name === 'wasm' ? ` (${i.threads ?? 1} thread${i.threads === 1 ? '' : 's'}${crossOriginIsolated ? ', cross-origin isolated' : ''})` : ''}`;
  const skipped = (i.skipped ?? []).map((s) => s.reason).join('; ');
  $('backend-info').textContent = backendLine;
  $('backend-info').title = skipped ? `skipped: ${skipped}` : '';
  $<HTMLSelectElement>('backend').value = choice;
}

function wireUi(): void {
  drawLossPlot($<HTMLCanvasElement>('loss'), []);
  $('sample-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runSampling();
  });
  $('train-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runTraining();
  });
  $('train-stop').addEventListener('click', () => stopTraining());
  $('train-use').addEventListener('click', () => {
    if (!training) return;
    const t = training;
    // Sampling the trained model uses its EMA weights: copy them into a second model.
    void t.modelFolder().then((f) => openFolder([{ name: 'config.json', bytes: new TextEncoder().encode(f.config) }, { name: 'model.safetensors', bytes: f.weights }]));
  });
  $('train-download').addEventListener('click', () => void downloadModelFolder());
  for (const id of ['file-input', 'folder-input']) {
    const input = $<HTMLInputElement>(id);
    input.addEventListener('change', () => {
      const files = readFiles(input.files);
      // Cleared, so picking the same files again (after fixing them) loads them again.
      void files.finally(() => (input.value = ''));
      void openFolder(files);
    });
  }
  $('reset-model').addEventListener('click', () => {
    if (shipped) useModel(shipped);
  });
  const zone = $('dropzone');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    void openFolder(readDataTransfer(e.dataTransfer?.items ?? null, e.dataTransfer?.files ?? null));
  });
  // Dropping anywhere else must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $<HTMLSelectElement>('backend').addEventListener('change', (e) => {
    const url = new URL(location.href);
    url.searchParams.set('backend', (e.target as HTMLSelectElement).value);
    location.href = url.href;
  });
}

async function main(): Promise<void> {
  wireUi();
  params = parseParams(location.search);
  status(`starting the ${params.backend} backend…`);
  await startBackend(params.backend);
  entries = listSamplers();
  api.samplers = entries.map((e) => e.id);
  const sel = $<HTMLSelectElement>('sampler');
  for (const e of entries) sel.append(new Option(e.label, e.id));
  if (entries.some((e) => e.id === 'ddim')) sel.value = 'ddim';
  status('loading the shipped mnist-tiny checkpoint…');
  shipped = await loadModelFolder(await fetchModelFolder(SHIPPED));
  shipped.description = `shipped ${shipped.description}`;
  useModel(shipped);
  applyParams(params, entries, current?.numClasses);
  setState('ready');
  status(`ready on ${tf.getBackend()}`);
  if (params.train !== undefined) await runTraining();
  else if (params.autostart) await runSampling();
}

main().catch((e) => showError(e, 'the page could not start'));
