/**
 * Reading a model folder the user hands the page (file picker or drag and
 * drop) or the one shipped with it: `config.json` + a safetensors file.
 *
 * - our model folder: `config.json` (a run folder's `{ model, demo, dataset }`
 *   or a bare model config with `kind`) + `model.safetensors`;
 * - a run's `checkpoints/ckpt-*` folder: `state.json` + `checkpoint.safetensors`
 *   (with the run's `config.json` when dropped with it): the EMA weights for
 *   the trained parameters, the raw ones for the frozen, as `cli sample`;
 * - a diffusers `UNet2DModel` folder: `config.json` with `_class_name` +
 *   `diffusion_pytorch_model.safetensors` (and, optionally, the pipeline's
 *   `scheduler_config.json`).
 */
import * as tf from '@tensorflow/tfjs';
import { makeSchedule, type NoiseSchedule, type ScheduleConfig } from '@tfjs-diffusion/schedules';
import {
  folderOfFiles, modelFromFolder, normalizeFolderPath, readModelFolder, CHECKPOINT_STATE, CHECKPOINT_WEIGHTS, DIFFUSERS_SCHEDULER,
  DIFFUSERS_WEIGHTS, MODEL_CONFIG, MODEL_WEIGHTS, type ModelFolder,
} from '@tfjs-diffusion/training';
import { uncheckedOptions, type Model } from '@tfjs-diffusion/models';
import { droppedFiles } from './files.js';

/** What sampling and training need to know about a loaded model. */
export interface LoadedModel {
  model: Model;
  /** The training noise schedule (from the run config, a scheduler config, or diffusers' DDPM default). */
  schedule: NoiseSchedule;
  /** Real classes (the null class is numClasses); undefined when unconditional. */
  numClasses: number | undefined;
  height: number;
  width: number;
  channels: number;
  /** The config.json object as read. */
  config: Record<string, unknown>;
  /** One line for the page: what was loaded from where. */
  description: string;
  /** Where the schedule came from, when it was not in the folder itself. */
  notes: string[];
}

/** A file of the folder: its name (with the folders it was picked or dropped in) and bytes. */
export interface FolderFile {
  name: string;
  bytes: Uint8Array;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

const DDPM_DEFAULT_SCHEDULE = { numTrainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 } as const;

const baseName = (name: string) => name.replace(/^.*[\\/]/, '');
const dirName = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');

/** `path` relative to the folder `root` ('../' where it lies beside it). */
function relative(root: string, path: string): string {
  const r = root === '' ? [] : root.split('/');
  const p = path.split('/');
  let i = 0;
  while (i < r.length && i < p.length - 1 && r[i] === p[i]) i++;
  return [...r.slice(i).map(() => '..'), ...p.slice(i)].join('/');
}

/**
 * The picked or dropped files as one folder for training's reader: paths
 * relative to the folder of a checkpoint's state.json (its run's config.json is
 * then ../../config.json), else of the shallowest config.json. A
 * lone config or weights file under another name stands for the usual one.
 */
function asFolder(files: FolderFile[]) {
  const all = files.map((f) => ({ path: normalizeFolderPath(f.name), bytes: f.bytes }));
  const depth = (p: string) => p.split('/').length;
  // The shallowest, and of those the last by name (the newest ckpt-*).
  const shallowest = (name: string) => all.filter((f) => baseName(f.path) === name).sort((a, b) => depth(a.path) - depth(b.path) || b.path.localeCompare(a.path))[0];
  const jsons = all.filter((f) => f.path.endsWith('.json') && !baseName(f.path).startsWith('scheduler'));
  const anchor = shallowest(CHECKPOINT_STATE) ?? shallowest(MODEL_CONFIG) ?? (jsons.length === 1 ? jsons[0] : undefined);
  const names = files.map((f) => baseName(f.name)).join(', ') || 'nothing';
  const weights = all.filter((f) => f.path.endsWith('.safetensors'));
  if (!anchor || (weights.length === 0 && baseName(anchor.path) !== MODEL_CONFIG)) throw new Error(`a model folder needs config.json and a .safetensors file; got ${names}`);
  const root = dirName(anchor.path);
  const map = new Map(all.map((f) => [relative(root, f.path), f.bytes]));
  if (baseName(anchor.path) !== MODEL_CONFIG && baseName(anchor.path) !== CHECKPOINT_STATE) map.set(MODEL_CONFIG, anchor.bytes);
  let diffusers = false;
  try {
    diffusers = typeof (JSON.parse(new TextDecoder().decode(map.get(MODEL_CONFIG) ?? new Uint8Array())) as Record<string, unknown>)._class_name === 'string';
  } catch {
    // The reader names what is wrong with it.
  }
  const usual = diffusers ? DIFFUSERS_WEIGHTS : MODEL_WEIGHTS;
  const checkpoint = all.some((f) => [CHECKPOINT_STATE, CHECKPOINT_WEIGHTS].includes(baseName(f.path)));
  if (map.has(MODEL_CONFIG) && !map.has(usual) && !checkpoint) {
    if (weights.length !== 1) {
      throw new Error(diffusers ? `a diffusers model folder needs ${DIFFUSERS_WEIGHTS} beside config.json (the .bin format is not read)` : `a model folder needs ${MODEL_WEIGHTS} beside config.json; got ${names}`);
    }
    map.set(usual, weights[0]!.bytes);
  }
  const scheduler = all.filter((f) => baseName(f.path) === DIFFUSERS_SCHEDULER);
  if (diffusers && !map.has(DIFFUSERS_SCHEDULER) && !map.has(`../scheduler/${DIFFUSERS_SCHEDULER}`) && scheduler.length === 1) map.set(DIFFUSERS_SCHEDULER, scheduler[0]!.bytes);
  return folderOfFiles(map, root === '' ? undefined : baseName(root));
}

function weightsLabel(read: ModelFolder): string {
  const kind = read.ema === true ? 'EMA weights' : read.ema === false ? 'raw weights' : 'weights';
  return read.step !== undefined ? `${kind} after ${read.step.toLocaleString('en')} steps` : kind;
}

/**
 * Builds the model a folder describes and loads the weights to sample with,
 * by training's one reader (the same weights `cli sample` takes: the EMA for
 * trained parameters, the raw weights for frozen ones). Throws an Error whose
 * message says which file is wrong and how, for the page to show.
 */
export async function loadModelFolder(files: FolderFile[]): Promise<LoadedModel> {
  const notes: string[] = [];
  const read = await readModelFolder(asFolder(files));
  const config = read.runConfig ?? {};
  let schedule: NoiseSchedule;
  const demo = isObj(config.demo) ? config.demo : {};
  if (read.source === 'diffusers') {
    if (read.scheduler) schedule = read.scheduler.schedule;
    else {
      schedule = makeSchedule({ ...DDPM_DEFAULT_SCHEDULE });
      notes.push("no scheduler_config.json: DDPM's linear schedule (1000 steps, β 0.0001 to 0.02) and ε-prediction; add the pipeline's scheduler/scheduler_config.json to use its own");
    }
  } else {
    if (read.config && read.config.kind !== 'unet') throw new Error(`${MODEL_CONFIG}: the page draws images with a U-Net; model kind is ${JSON.stringify(read.config.kind)}`);
    // makeSchedule checks every field of the run's schedule.
    if (isObj(demo.schedule)) schedule = makeSchedule(uncheckedOptions<ScheduleConfig>(demo.schedule));
    else {
      schedule = makeSchedule({ ...DDPM_DEFAULT_SCHEDULE });
      notes.push("the config has no schedule (a bare model config): using DDPM's linear schedule (1000 steps, β 0.0001 to 0.02)");
    }
  }
  const { model } = modelFromFolder(read);
  // The model's config as the models package resolved it (every field checked): a U-Net's has the image shape.
  const m = model.config;
  if (m.kind !== 'unet') {
    model.dispose();
    throw new Error(`${MODEL_CONFIG}: the page draws images with a U-Net; model kind is ${JSON.stringify(m.kind)}`);
  }
  const [height, width] = typeof m.sampleSize === 'number' ? [m.sampleSize, m.sampleSize] : m.sampleSize;
  const count = model.parameters().reduce((a, p) => a + p.variable.size, 0);
  const classNames = isObj(config.dataset) && Array.isArray(config.dataset.classNames) ? config.dataset.classNames.map(String) : undefined;
  const description = read.source === 'diffusers'
    ? `diffusers UNet2DModel (${count.toLocaleString('en')} parameters, ${model.prediction}-prediction, from ${read.weightsFile})`
    : `${typeof demo.preset === 'string' ? demo.preset : 'U-Net'} (${count.toLocaleString('en')} parameters, ${weightsLabel(read)}, from ${read.weightsFile})` +
      (classNames ? `, classes ${classNames.join(' ')}` : '');
  return { model, schedule, numClasses: m.numClasses ?? undefined, height, width, channels: m.inChannels, config, description, notes };
}

/** Reads dropped files (folders included, via the entries API) into FolderFiles. */
export async function readDataTransfer(items: DataTransferItemList | null, fallback: FileList | null): Promise<FolderFile[]> {
  return readFiles((await droppedFiles(items, fallback, 2)).map((p) => p.file));
}

/** Only the files a model folder can hold are read (config and weights), so dropping a run folder is cheap. */
export async function readFiles(files: FileList | File[] | null): Promise<FolderFile[]> {
  const list = Array.from(files ?? []).filter((f) => /\.(json|safetensors)$/.test(f.name));
  return Promise.all(list.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

/** Fetches a served model folder (the shipped checkpoint). */
export async function fetchModelFolder(base: string): Promise<FolderFile[]> {
  const get = async (name: string): Promise<FolderFile> => {
    const res = await fetch(`${base}/${name}`);
    if (!res.ok) throw new Error(`cannot fetch ${base}/${name}: HTTP ${res.status}`);
    return { name, bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  return Promise.all([get('config.json'), get('model.safetensors')]);
}

export function disposeLoaded(m: LoadedModel | undefined): void {
  if (m) tf.tidy(() => m.model.dispose());
}
