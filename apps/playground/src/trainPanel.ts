// The Train section: what to train on (the shipped MNIST digits, or the
// user's folder, dropped or picked), the run on the library's loop with
// progress, loss plot and sample grids, and the trained model folder.
import * as tf from '@tensorflow/tfjs';
import type { FolderDataset, ImageDataset } from '@tfjs-diffusion/data';
import { numberInput, readTrainSettings } from './form.js';
import { drawGrid, gridCols } from './grid.js';
import { droppedFiles, dropZone, pickedFiles, type PickedFile } from './files.js';
import { fetchDigits } from './mnist.js';
import type { FolderFile } from './modelFolder.js';
import { api, $, clearError, download, scaleCanvas, showError } from './page.js';
import { drawLossPlot } from './plot.js';
import { readRecipe } from './recipe.js';
import { sampleImages } from './sampling.js';
import { state, useModel } from './state.js';
import { checkResolution, describeData, readTrainFolder, type FolderChoice } from './trainData.js';
import { classCount, createInTabTrainer, digitsDataset, type InTabTrainer } from './training.js';

let mnist: Promise<ImageDataset> | undefined;
/** The user's folder, and its dataset as read for `choice` (read again when the choice changes). */
let folder: { files: PickedFile[]; name: string; read?: { choice: string; data: Promise<FolderDataset> } } | undefined;
let stopTraining = (): void => {};

const dataState = (s: string) => (document.body.dataset.trainData = s);

function folderChoice(multiple: number): FolderChoice {
  const channels = $<HTMLSelectElement>('train-channels').value === '1' ? 1 : 3;
  return { resolution: checkResolution(numberInput('train-resolution'), multiple), channels };
}

/** Levels below the first halve the size: the recipe's network needs a multiple of this. */
function sizeMultiple(): number {
  return state.shipped ? 2 ** (readRecipe(state.shipped.config).model.blockOutChannels.length - 1) : 4;
}

function showSkipped(d: FolderDataset | undefined): void {
  const box = $('train-skipped');
  const list = $('train-skipped-list');
  list.replaceChildren(...(d?.skippedFiles ?? []).map((s) => Object.assign(document.createElement('li'), { textContent: `${s.path}: ${s.reason}` })));
  box.hidden = !d || d.skipped === 0;
  $('train-skipped-count').textContent = d ? `${d.skipped} file${d.skipped === 1 ? '' : 's'} skipped:` : '';
  document.body.dataset.trainSkipped = String(d?.skipped ?? 0);
}

/** The folder's dataset for the current choice, read (once per choice) with its report on the page. */
async function folderData(): Promise<FolderDataset> {
  const f = folder!;
  try {
    const choice = folderChoice(sizeMultiple());
    const key = JSON.stringify(choice);
    if (f.read?.choice !== key) {
      dataState('reading');
      $('train-data-info').textContent = `reading ${f.files.length} files of ${f.name} at ${choice.resolution}×${choice.resolution}…`;
      f.read = { choice: key, data: readTrainFolder(f.files, choice) };
    }
    const d = await f.read.data;
    if (folder !== f) return d;
    $('train-data-info').textContent = describeData(d, f.name);
    showSkipped(d);
    dataState('folder');
    return d;
  } catch (e) {
    if (folder === f) {
      f.read = undefined;
      $('train-data-info').textContent = `${f.name}: nothing to train on (${e instanceof Error ? e.message : String(e)})`;
      showSkipped(undefined);
      dataState('error');
    }
    throw e;
  }
}

async function useFolder(files: PickedFile[] | Promise<PickedFile[]>): Promise<void> {
  clearError();
  try {
    const list = await files;
    const top = list[0]?.path.split('/');
    const name = top && top.length > 1 && list.every((p) => p.path.startsWith(`${top[0]}/`)) ? `folder ${top[0]}` : `${list.length} file${list.length === 1 ? '' : 's'}`;
    folder = { files: list, name };
    await folderData();
  } catch (e) {
    showError(e, 'this folder cannot be trained on');
  }
}

function useMnist(): void {
  folder = undefined;
  $('train-data-info').textContent = 'MNIST: 10,000 images at 28×28 grey, 10 classes (0 to 9): class-conditional';
  showSkipped(undefined);
  dataState('mnist');
}

async function previewTraining(t: InTabTrainer): Promise<void> {
  const canvas = $<HTMLCanvasElement>('train-samples');
  const k = t.numClasses;
  // One column per class (at most 10), two rows; 16 images when unconditional.
  const cols = k === undefined ? 8 : Math.min(k, 10);
  const n = 2 * cols;
  const guidance = k === undefined ? 1 : 3;
  const sampler = state.entries.some((e) => e.id === 'ddim') ? 'ddim' : state.entries[0]!.id;
  const labels = k === undefined ? undefined : Array.from({ length: n }, (_, i) => i % cols);
  const res = await t.withEma((m) => sampleImages(m, state.entries, { sampler, steps: 25, guidance, threshold: 'none', seed: 42, n, labels }));
  const [, height, width, channels] = t.shape;
  drawGrid(canvas, res.pixels, { n, cols: gridCols(n, cols), height, width, channels });
  scaleCanvas(canvas);
  $('train-samples-caption').textContent = `samples of the EMA weights at step ${t.trainer.step} (DDIM, 25 steps${k === undefined ? '' : `, guidance ${guidance}, one column per class`})`;
}

const seconds = (s: number) => (s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`);

export async function runTraining(): Promise<void> {
  if (state.busy) return;
  state.busy = true;
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
    const previewEvery = numberInput('train-preview-every', 'previewEvery');
    const shipped = state.shipped;
    if (!shipped) throw new Error('the shipped checkpoint is not loaded, so the recipe is unknown');
    const recipe = readRecipe(shipped.config, 'the shipped config.json');
    let data: ImageDataset;
    let what: string;
    let source = {};
    if (folder) {
      data = await folderData();
      what = `a U-Net on ${folder.name}`;
      // As the demo records a --data-dir run (a page has no path to give).
      source = { dataset: 'folder', resolution: data.shape[1], centerCrop: true };
    } else {
      $('train-status').textContent = 'loading MNIST digits…';
      data = await (mnist ??= fetchDigits('data/mnist.bin.gz').then((d) => digitsDataset(d)));
      what = 'mnist-tiny';
    }
    if (state.training) {
      if (state.current?.model === state.training.model) useModel(shipped);
      await state.training.dispose();
      state.training = undefined;
    }
    const t = await createInTabTrainer(recipe, data, s, what, source);
    state.training = t;
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
        const perStep = trainMs / 1000 / e.done;
        $('train-status').textContent = `step ${done}/${s.steps} · loss ${e.loss.toFixed(4)} · ${(s.batchSize / perStep).toFixed(1)} img/s on ${tf.getBackend()} · ${seconds(perStep * (s.steps - done))} to go`;
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
    state.busy = false;
    buttons.start.disabled = false;
    buttons.stop.disabled = true;
  }
}

async function downloadModelFolder(): Promise<void> {
  try {
    if (!state.training) throw new Error('train first');
    const { config, weights } = await state.training.modelFolder();
    download('config.json', config, 'application/json');
    await new Promise((r) => setTimeout(r, 300));
    download('model.safetensors', weights as BlobPart, 'application/octet-stream');
    $('train-status').textContent += ' · downloaded config.json and model.safetensors: put them in one folder; `cli sample --checkpoint <folder>` reads it';
  } catch (e) {
    showError(e, 'download failed');
  }
}

/** Wires the Train section; `openFolder` loads a model folder into the Sample section. */
export function wireTraining(openFolder: (files: FolderFile[]) => Promise<void>): void {
  useMnist();
  drawLossPlot($<HTMLCanvasElement>('loss'), []);
  $('train-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runTraining();
  });
  $('train-stop').addEventListener('click', () => stopTraining());
  $('train-use').addEventListener('click', () => {
    const t = state.training;
    if (!t) return;
    // Sampling the trained model uses its EMA weights: copy them into a second model.
    void t.modelFolder().then((f) => openFolder([{ name: 'config.json', bytes: new TextEncoder().encode(f.config) }, { name: 'model.safetensors', bytes: f.weights }]));
  });
  $('train-download').addEventListener('click', () => void downloadModelFolder());
  for (const id of ['train-folder-input', 'train-files-input']) {
    const input = $<HTMLInputElement>(id);
    input.addEventListener('change', () => {
      const files = pickedFiles(input.files);
      // Cleared, so picking the same folder again (after fixing it) reads it again.
      input.value = '';
      void useFolder(files);
    });
  }
  $('train-use-mnist').addEventListener('click', useMnist);
  for (const id of ['train-resolution', 'train-channels']) {
    $(id).addEventListener('change', () => {
      if (folder) void folderData().catch((e) => showError(e, 'this folder cannot be trained on'));
    });
  }
  dropZone($('train-dropzone'), (e) => {
    // Class folders sit one level below the dropped folder; a few more levels are walked for nested layouts.
    void useFolder(droppedFiles(e.dataTransfer?.items ?? null, e.dataTransfer?.files ?? null, 4));
  });
}
