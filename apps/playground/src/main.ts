/**
 * The playground page: picks a backend, opens the shipped mnist-tiny
 * checkpoint (or the user's model folder, grey or colour), samples with every
 * sampler of @tfjs-diffusion/samplers showing x̂0 at every step, and trains in
 * the tab on MNIST or the user's images (trainPanel.ts). Every failure ends up
 * in #error, never a blank page.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { applyParams, applyRanges, readRequest } from './form.js';
import { drawGrid, type GridLayout } from './grid.js';
import { dropZone } from './files.js';
import { fetchModelFolder, loadModelFolder, readDataTransfer, readFiles, type FolderFile } from './modelFolder.js';
import { parseParams, type PageParams } from './params.js';
import { api, $, clearError, scaleCanvas, setState, showError, showNotice, status } from './page.js';
import { listSamplers, sampleImages, type Parallel } from './sampling.js';
import { state, useModel } from './state.js';
import { runTraining, wireTraining } from './trainPanel.js';
import { samplingThreads, WorkerPool } from './workers.js';

const SHIPPED = 'models/mnist-tiny';

window.addEventListener('error', (e) => showError(e.error ?? e.message, 'unexpected error'));
window.addEventListener('unhandledrejection', (e) => showError(e.reason, 'unexpected error'));

let params: PageParams;
/** Sampling workers (wasm, cross-origin isolated); started on the first run that uses them. */
let pool: WorkerPool | undefined;

async function runSampling(): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  clearError();
  setState('sampling');
  const button = $<HTMLButtonElement>('sample-button');
  button.disabled = true;
  try {
    const m = state.current!;
    const r = readRequest(m);
    const layout: GridLayout = { n: r.n, cols: r.cols, height: m.height, width: m.width, channels: m.channels };
    const preview = $<HTMLCanvasElement>('preview');
    const threads = Math.min(samplingThreads(tf.getBackend(), params.threads), r.n);
    const parallel: Parallel | undefined = threads > 1 && pool ? { pool, threads } : undefined;
    const on = `${tf.getBackend()}${parallel ? ` (${threads} threads: the page and ${threads - 1} worker${threads > 2 ? 's' : ''})` : ''}`;
    status(`sampling ${r.n} images with ${r.sampler}, ${r.steps} steps on ${on}…`);
    const pixelsPerImage = m.height * m.width * m.channels;
    const res = await sampleImages(m, state.entries, r, async (i, n, x0, ms, [a, b]) => {
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
    const label = state.entries.find((e) => e.id === r.sampler)?.label ?? r.sampler;
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
    state.busy = false;
    button.disabled = false;
  }
}

async function openFolder(files: FolderFile[] | Promise<FolderFile[]>): Promise<void> {
  if (state.busy) {
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
  $('sample-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runSampling();
  });
  wireTraining(openFolder);
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
    if (state.shipped) useModel(state.shipped);
  });
  dropZone($('dropzone'), (e) => {
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
  applyRanges();
  params = parseParams(location.search);
  status(`starting the ${params.backend} backend…`);
  await startBackend(params.backend);
  const entries = (state.entries = listSamplers());
  api.samplers = entries.map((e) => e.id);
  const sel = $<HTMLSelectElement>('sampler');
  for (const e of entries) sel.append(new Option(e.label, e.id));
  if (entries.some((e) => e.id === 'ddim')) sel.value = 'ddim';
  status('loading the shipped mnist-tiny checkpoint…');
  const shipped = await loadModelFolder(await fetchModelFolder(SHIPPED));
  shipped.description = `shipped ${shipped.description}`;
  state.shipped = shipped;
  useModel(shipped);
  applyParams(params, entries, state.current?.numClasses);
  setState('ready');
  status(`ready on ${tf.getBackend()}`);
  if (params.train !== undefined) await runTraining();
  else if (params.autostart) await runSampling();
}

main().catch((e) => showError(e, 'the page could not start'));
