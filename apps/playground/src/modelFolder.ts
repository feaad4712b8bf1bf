/**
 * Reading a model folder the user hands the page (file picker or drag and
 * drop) or the one shipped with it: `config.json` + a safetensors file.
 *
 * - our model folder: `config.json` (a run folder's `{ model, demo, dataset }`
 *   or a bare model config with `kind`) + `model.safetensors`;
 * - a run's `checkpoints/ckpt-*` folder: `checkpoint.safetensors` (`ema.*`
 *   weights when present, else `model.*`) with the run's `config.json`;
 * - a diffusers `UNet2DModel` folder: `config.json` with `_class_name` +
 *   `diffusion_pytorch_model.safetensors` (and, optionally, the pipeline's
 *   `scheduler_config.json`).
 */
import * as tf from '@tensorflow/tfjs';
import { createModel, decodeSafetensors, fromDiffusers, loadWeights, type Model, type SafetensorsTensor } from '@tfjs-diffusion/models';
import { fromDiffusersConfig } from '@tfjs-diffusion/samplers';
import { makeSchedule, type NoiseSchedule } from '@tfjs-diffusion/schedules';

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

/** A file of the folder: its name and bytes. */
export interface FolderFile {
  name: string;
  bytes: Uint8Array;
}

const DDPM_DEFAULT_SCHEDULE = { numTrainTimesteps: 1000, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02 } as const;

function baseName(name: string): string {
  return name.replace(/^.*[\\/]/, '');
}

function parseJson(file: FolderFile): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(file.bytes));
  } catch (e) {
    throw new Error(`${file.name} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${file.name} must hold a JSON object`);
  return value as Record<string, unknown>;
}

function pick(files: FolderFile[], names: string[]): FolderFile | undefined {
  for (const n of names) {
    const f = files.find((x) => baseName(x.name) === n);
    if (f) return f;
  }
  return undefined;
}

/** The weights under the model's own names: a checkpoint's `ema.*` set when complete, else its `model.*` set. */
function modelWeights(tensors: Record<string, SafetensorsTensor>, paramNames: string[]): { tensors: Record<string, SafetensorsTensor>; source: string } {
  for (const prefix of ['ema.', 'model.']) {
    if (paramNames.every((n) => `${prefix}${n}` in tensors)) {
      const out: Record<string, SafetensorsTensor> = {};
      for (const n of paramNames) out[n] = tensors[`${prefix}${n}`]!;
      return { tensors: out, source: prefix === 'ema.' ? 'EMA weights' : 'raw weights' };
    }
  }
  return { tensors, source: 'weights' };
}

function hw(sampleSize: unknown): [number, number] {
  if (typeof sampleSize === 'number') return [sampleSize, sampleSize];
  if (Array.isArray(sampleSize) && sampleSize.length === 2) return [Number(sampleSize[0]), Number(sampleSize[1])];
  throw new Error(`config.json: sample_size/sampleSize must be a number or [height, width]; got ${JSON.stringify(sampleSize)}`);
}

async function loadDiffusers(config: Record<string, unknown>, files: FolderFile[], notes: string[]): Promise<LoadedModel> {
  if (config._class_name !== 'UNet2DModel') {
    throw new Error(`config.json: _class_name ${JSON.stringify(config._class_name)} is not supported; the page loads diffusers' UNet2DModel folders`);
  }
  const weightsFile = pick(files, ['diffusion_pytorch_model.safetensors']) ?? files.find((f) => f.name.endsWith('.safetensors'));
  if (!weightsFile) throw new Error('a diffusers model folder needs diffusion_pytorch_model.safetensors beside config.json (the .bin format is not read)');
  // The schedule and prediction type live in the pipeline's scheduler config, not the model's.
  let schedule: NoiseSchedule;
  let predictionType: 'epsilon' | 'v' | 'sample' = 'epsilon';
  const scheduler = pick(files, ['scheduler_config.json']);
  if (scheduler) {
    const read = fromDiffusersConfig(parseJson(scheduler));
    schedule = read.schedule;
    predictionType = read.prediction;
  } else {
    schedule = makeSchedule({ ...DDPM_DEFAULT_SCHEDULE });
    notes.push("no scheduler_config.json: DDPM's linear schedule (1000 steps, β 0.0001 to 0.02) and ε-prediction; add the pipeline's scheduler/scheduler_config.json to use its own");
  }
  const model = fromDiffusers(config as never, weightsFile.bytes, { predictionType, source: weightsFile.name });
  const m = model.config;
  const [height, width] = hw(m.sampleSize);
  const count = model.parameters().reduce((a, p) => a + p.variable.size, 0);
  return {
    model, schedule, numClasses: m.numClasses ?? undefined, height, width, channels: m.inChannels, config,
    description: `diffusers UNet2DModel (${count.toLocaleString('en')} parameters, ${predictionType}-prediction, from ${weightsFile.name})`, notes,
  };
}

/**
 * Builds the model a folder describes and loads its weights. Throws an Error
 * whose message says which file is wrong and how, for the page to show.
 */
export async function loadModelFolder(files: FolderFile[]): Promise<LoadedModel> {
  const notes: string[] = [];
  const cfgFile = pick(files, ['config.json']) ?? (files.filter((f) => f.name.endsWith('.json') && !baseName(f.name).startsWith('scheduler')).length === 1
    ? files.find((f) => f.name.endsWith('.json') && !baseName(f.name).startsWith('scheduler')) : undefined);
  const names = files.map((f) => baseName(f.name)).join(', ') || 'nothing';
  if (!cfgFile) throw new Error(`a model folder needs config.json and a .safetensors file; got ${names}`);
  const config = parseJson(cfgFile);
  if (typeof config._class_name === 'string') return loadDiffusers(config, files, notes);

  const weightsFile = pick(files, ['model.safetensors', 'checkpoint.safetensors']) ?? files.find((f) => f.name.endsWith('.safetensors'));
  if (!weightsFile) throw new Error(`a model folder needs model.safetensors beside config.json; got ${names}`);
  const run = config.model as Record<string, unknown> | undefined;
  const modelConfig = run && typeof run === 'object' && 'kind' in run ? run : 'kind' in config ? config : undefined;
  if (!modelConfig) {
    throw new Error(`${cfgFile.name}: expected a model config with "kind" ('unet' or 'mlp'), a run config with "model": { "kind": … }, or a diffusers config with "_class_name"`);
  }
  if (modelConfig.kind !== 'unet') throw new Error(`${cfgFile.name}: the page draws images with a U-Net; model kind is ${JSON.stringify(modelConfig.kind)}`);

  const demo = config.demo as { schedule?: Record<string, unknown> } | undefined;
  let schedule: NoiseSchedule;
  if (demo?.schedule) {
    schedule = makeSchedule(demo.schedule as never);
  } else {
    schedule = makeSchedule({ ...DDPM_DEFAULT_SCHEDULE });
    notes.push("the config has no schedule (a bare model config): using DDPM's linear schedule (1000 steps, β 0.0001 to 0.02)");
  }

  const file = decodeSafetensors(weightsFile.bytes, weightsFile.name);
  const model = createModel(modelConfig as never);
  let source: string;
  try {
    const params = model.parameters().map((p) => p.name);
    const w = modelWeights(file.tensors, params);
    // A model folder's metadata says which weights it holds and after how many steps (as the trainer writes it).
    const meta = file.metadata ?? {};
    source = w.source === 'weights' && meta.weights === 'ema' ? 'EMA weights' : w.source;
    if (meta.step !== undefined && Number.isFinite(Number(meta.step))) source += ` after ${Number(meta.step).toLocaleString("en")} steps`;
    loadWeights(model, w.tensors as never, { source: weightsFile.name });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const m = model.config as unknown as { sampleSize: number | [number, number]; inChannels: number; numClasses?: number | null };
  const [height, width] = hw(m.sampleSize);
  const dataset = config.dataset as { classNames?: string[] } | undefined;
  const count = model.parameters().reduce((a, p) => a + p.variable.size, 0);
  return {
    model, schedule, numClasses: m.numClasses ?? undefined, height, width, channels: m.inChannels, config,
    description: `${(config.demo as { preset?: string } | undefined)?.preset ?? 'U-Net'} (${count.toLocaleString('en')} parameters, ${source}, from ${weightsFile.name})` +
      (dataset?.classNames ? `, classes ${dataset.classNames.join(' ')}` : ''),
    notes,
  };
}

/** Reads dropped or picked files (folders included, via the entries API) into FolderFiles. */
export async function readDataTransfer(items: DataTransferItemList | null, fallback: FileList | null): Promise<FolderFile[]> {
  const out: File[] = [];
  const entries = items ? Array.from(items).map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e) : [];
  if (entries.length === 0) return readFiles(fallback);
  const walk = async (e: FileSystemEntry, depth: number): Promise<void> => {
    if (e.isFile) {
      out.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
    } else if (e.isDirectory && depth < 2) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c, depth + 1);
      }
    }
  };
  for (const e of entries) await walk(e, 0);
  return readFiles(out);
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
