// The one reader of model, run, checkpoint and diffusers folders, from name →
// bytes (browser-safe; training/node puts files on disk under it), and the one
// writer of a model folder's files.
import {
  createModel, decodeSafetensors, encodeSafetensors, isDiffusersUNetConfig, loadWeights, type Model, modelConfigOf, type ModelConfigJson, type SafetensorsTensor,
} from '@tfjs-diffusion/models';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { assertFiniteCheckpoint, firstNonFinite, splitCheckpointTensors, CHECKPOINT_WEIGHTS, type Checkpoint, type TensorMap } from './checkpoint.js';
import { findCheckpointIn, readCheckpointAt } from './checkpointFolder.js';
import { DIFFUSERS_WEIGHTS, readDiffusersFolder, type DiffusersScheduler } from './diffusersFolder.js';
import { hasFile, joinFolderPath, readJsonFile, type FolderFiles } from './folder.js';
import { inferenceWeights, type WeightsSource } from './weights.js';

export const MODEL_WEIGHTS = 'model.safetensors';
export const MODEL_CONFIG = 'config.json';

export interface ReadWeightsOptions {
  /** The EMA weights when the run kept an EMA (default true); false for the raw ones (needs a checkpoint). */
  ema?: boolean;
}

export const READ_WEIGHTS_KEYS = optionKeys<ReadWeightsOptions>()(['ema']);

/** What a folder holds for sampling: the model config, the weights to sample with, and the schedule's sources. */
export interface ModelFolder {
  /** Tensors by parameter name. */
  tensors: TensorMap;
  /** The model config (with `kind`); undefined when a checkpoint of a model without one has no config.json near it. */
  config: ModelConfigJson | undefined;
  /** 'ema' or 'model' from a checkpoint; 'model-folder' for a model folder's weights; 'diffusers' for a diffusers UNet2DModel folder's. */
  source: WeightsSource | 'model-folder' | 'diffusers';
  /** True when the trained parameters are their EMA, false when raw; undefined when the folder does not say. */
  ema: boolean | undefined;
  /** The checkpoint folder or model folder read. */
  path: string;
  /** The weights file read. */
  weightsFile: string;
  /** The training step, when known. */
  step?: number;
  /** The config.json read (a run config `{ model, ... }` or a bare model config), if any. */
  runConfig?: Record<string, unknown>;
  /** A diffusers folder's scheduler config, if it has one. */
  scheduler?: DiffusersScheduler;
}

/**
 * The weights to sample with from a checkpoint's weights file without its
 * state.json: the EMA for each parameter it covers (the trained ones), the raw
 * weights for the others (frozen) — the rule `inferenceWeights` applies.
 */
function checkpointFileWeights(tensors: Record<string, SafetensorsTensor>, where: string, ema: boolean): { tensors: TensorMap; ema: boolean } {
  const hasEma = Object.keys(tensors).some((k) => k.startsWith('ema.'));
  const split = splitCheckpointTensors(tensors, where, hasEma);
  if (!ema || !split.ema) return { tensors: split.model, ema: false };
  const out: TensorMap = {};
  for (const [name, raw] of Object.entries(split.model)) out[name] = split.ema[name] ?? raw;
  return { tensors: out, ema: true };
}

function f32Tensors(tensors: Record<string, SafetensorsTensor>, where: string): TensorMap {
  const out: TensorMap = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${where}: tensor '${k}' has dtype ${t.dtype}; model weights are F32 (or F16/BF16)`);
    out[k] = { shape: t.shape, data: t.data };
  }
  return out;
}

/**
 * Reads what `folder` holds: a run folder (checkpoints/latest), a checkpoints
 * folder (latest), one ckpt-* folder (state.json), a model folder (config.json +
 * model.safetensors, or a ckpt-* folder's checkpoint.safetensors) or a diffusers
 * UNet2DModel folder. The weights to sample with, the same everywhere: the EMA
 * for the trained parameters and the raw weights for the frozen ones (which
 * never moved, so the EMA does not cover them); `ema: false` for the raw ones.
 */
export async function readModelFolder(folder: FolderFiles, opts: ReadWeightsOptions = {}): Promise<ModelFolder> {
  checkOptions('readModelFolder', opts, READ_WEIGHTS_KEYS);
  const { ema = true } = opts;
  const ckDir = await findCheckpointIn(folder);
  if (ckDir !== undefined) {
    const ck = await readCheckpointAt(folder, ckDir);
    const path = folder.describe(ckDir);
    const w = inferenceWeights(ck, { ema, where: path });
    // ckpt-* sits in checkpoints/, which sits in the run folder.
    let runConfig: Record<string, unknown> | undefined;
    let near: string | undefined;
    for (const p of ['../..', '..'].map((up) => joinFolderPath(ckDir, `${up}/${MODEL_CONFIG}`))) {
      runConfig = await readJsonFile(folder, p);
      if (runConfig) { near = p; break; }
    }
    const own = ck.state.config.model;
    const config = own && typeof own.kind === 'string' ? (own as ModelConfigJson) : near ? modelConfigOf(runConfig, folder.describe(near)) : undefined;
    return {
      tensors: w.tensors, config, source: w.source, ema: w.source === 'ema', path, weightsFile: folder.describe(joinFolderPath(ckDir, CHECKPOINT_WEIGHTS)),
      step: ck.state.step, ...(runConfig && { runConfig }),
    };
  }
  const json = await readJsonFile(folder, MODEL_CONFIG);
  if (json && (isDiffusersUNetConfig(json) || typeof json._class_name === 'string')) {
    if (!ema) throw new Error(`'${folder.describe('')}' is a diffusers model folder: it holds only the inference weights; the raw training weights need a checkpoint`);
    const d = await readDiffusersFolder(folder, json);
    return {
      tensors: d.tensors, config: { ...d.config }, source: 'diffusers', ema: undefined, path: folder.describe(''), weightsFile: folder.describe(DIFFUSERS_WEIGHTS),
      runConfig: json, ...(d.scheduler && { scheduler: d.scheduler }),
    };
  }
  const weightsName = json && !(await hasFile(folder, MODEL_WEIGHTS)) && (await hasFile(folder, CHECKPOINT_WEIGHTS)) ? CHECKPOINT_WEIGHTS : MODEL_WEIGHTS;
  const bytes = json ? await folder.read(weightsName) : undefined;
  if (!json || !bytes) {
    throw new Error(
      `'${folder.describe('')}' is not a run folder (checkpoints/latest), a checkpoints folder (latest), a checkpoint (state.json) ` +
        `or a model folder (${MODEL_CONFIG} + ${MODEL_WEIGHTS})${json ? `: it has ${MODEL_CONFIG} but no ${MODEL_WEIGHTS}` : ''}`,
    );
  }
  if (!ema && weightsName === MODEL_WEIGHTS) {
    throw new Error(`'${folder.describe('')}' is a model folder: it holds only the inference weights; the raw training weights need a checkpoint`);
  }
  const config = modelConfigOf(json, folder.describe(MODEL_CONFIG));
  const where = folder.describe(weightsName);
  const file = decodeSafetensors(bytes, where);
  const meta = file.metadata ?? {};
  const step = meta.step !== undefined && /^\d+$/.test(meta.step) ? Number(meta.step) : undefined;
  const base = { config, path: folder.describe(''), weightsFile: where, runConfig: json, ...(step !== undefined && { step }) };
  if (weightsName === CHECKPOINT_WEIGHTS) {
    const w = checkpointFileWeights(file.tensors, where, ema);
    return { ...base, tensors: w.tensors, source: w.ema ? 'ema' : 'model', ema: w.ema };
  }
  // The writer below records which weights a model folder holds.
  const averaged = meta.weights === 'ema' ? true : meta.weights === 'model' ? false : undefined;
  return { ...base, tensors: f32Tensors(file.tensors, where), source: 'model-folder', ema: averaged };
}

/** Throws unless every weight is finite: NaN/Inf weights cannot sample. */
export function assertFiniteWeights(tensors: TensorMap, where: string): void {
  const bad = firstNonFinite({ model: tensors, ema: null, adam: { m: {}, v: {} } });
  if (bad) throw new Error(`${where}: ${bad} holds NaN or Inf; these weights cannot sample`);
}

/** Loads a folder's weights into `model` (strict: every name and shape must match; weights must be finite). */
export async function loadFolderWeights(model: { parameters(): NamedParameter[] }, folder: FolderFiles, opts: ReadWeightsOptions = {}): Promise<Omit<ModelFolder, 'tensors'>> {
  checkOptions('loadFolderWeights', opts, READ_WEIGHTS_KEYS);
  const { tensors, ...rest } = await readModelFolder(folder, opts);
  assertFiniteWeights(tensors, rest.path);
  loadWeights(model, tensors, { source: `weights in ${rest.weightsFile}` });
  return rest;
}

/** Builds the model of what `readModelFolder` read (by `createModel(config)` on its `kind`) with its weights (finite, names and shapes checked). */
export function modelFromFolder(read: ModelFolder): Omit<ModelFolder, 'tensors' | 'config'> & { config: ModelConfigJson; model: Model } {
  const { tensors, config, ...rest } = read;
  if (!config) throw new Error(`${rest.path}: no model config (state.json has none and no config.json is near it)`);
  assertFiniteWeights(tensors, rest.path);
  const model = createModel(config);
  try {
    loadWeights(model, tensors, { source: `weights in ${rest.weightsFile}` });
    return { ...rest, config, model };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Builds the model a folder holds with the weights to sample with (`readModelFolder`, then `modelFromFolder`). */
export async function loadModelFolder(folder: FolderFiles, opts: ReadWeightsOptions = {}): Promise<Omit<ModelFolder, 'tensors' | 'config'> & { config: ModelConfigJson; model: Model }> {
  checkOptions('loadModelFolder', opts, READ_WEIGHTS_KEYS);
  return modelFromFolder(await readModelFolder(folder, opts));
}

const ENCODE_KEYS = optionKeys<NonNullable<Parameters<typeof encodeModelFolder>[1]>>()(['config']);

/**
 * The files of a model folder for a checkpoint: model.safetensors with the
 * weights to sample with (EMA for trained, raw for frozen parameters; its
 * metadata says which and at what step) and config.json (`config`, e.g. a
 * run config, else the checkpoint's model config). Refuses non-finite weights.
 */
export function encodeModelFolder(ck: Checkpoint, opts: { config?: unknown } = {}): { weights: Uint8Array; config: string | undefined; source: WeightsSource } {
  checkOptions('encodeModelFolder', opts, ENCODE_KEYS);
  const { config } = opts;
  assertFiniteCheckpoint(ck, `at step ${ck.state.step}`);
  const { tensors, source } = inferenceWeights(ck);
  const entries: Record<string, SafetensorsTensor> = {};
  for (const [k, t] of Object.entries(tensors)) entries[k] = { dtype: 'F32', shape: t.shape, data: t.data };
  const model = ck.state.config.model;
  const metadata: Record<string, string> = { format: 'pt', library: 'tfjs-diffusion', weights: source, step: String(ck.state.step) };
  if (typeof model?.kind === 'string') metadata.kind = model.kind;
  const cfg = config ?? model ?? undefined;
  return { weights: encodeSafetensors(entries, metadata), config: cfg === undefined ? undefined : JSON.stringify(cfg, null, 2) + '\n', source };
}
