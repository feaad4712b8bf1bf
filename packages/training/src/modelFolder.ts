// Model folders (config.json + model.safetensors) and the one loader of
// inference weights from a run folder, a checkpoint folder or a model folder.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createModel, decodeSafetensors, diffusersTensors, isDiffusersUNetConfig, loadWeights, type Model, type SafetensorsTensor,
} from '@tfjs-diffusion/models';
import { writeSafetensors } from '@tfjs-diffusion/models/node';
import { parseDiffusersConfig, type Prediction } from '@tfjs-diffusion/schedules';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import { assertFiniteCheckpoint, firstNonFinite, type Checkpoint, type TensorMap } from './checkpoint.js';
import { exists, findCheckpoint, readCheckpoint, removeStaleTemporaries } from './checkpointFiles.js';
import { inferenceWeights, type WeightsSource } from './weights.js';

export const MODEL_WEIGHTS = 'model.safetensors';
export const MODEL_CONFIG = 'config.json';

/** A model config with `kind`, as `createModel` takes it. */
export type ModelConfigJson = { kind: string } & Record<string, unknown>;

/**
 * The model config in a config.json: a run folder's `{ model: {...}, ... }`
 * or a bare model config (as the models package's saveModel writes).
 */
export function modelConfigOf(json: unknown, where: string): ModelConfigJson {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(json)) throw new Error(`${where}: must be a JSON object; got ${json === null ? 'null' : typeof json}`);
  const cfg = isObj(json.model) ? json.model : json;
  // Run configs written before `kind` was stored hold U-Nets.
  const kind = cfg.kind ?? (isObj(json.model) ? 'unet' : undefined);
  if (kind !== 'unet' && kind !== 'mlp') {
    throw new Error(`${where}: no model config: expected a 'model' object or a config with kind 'unet' or 'mlp'; got kind ${JSON.stringify(cfg.kind)}`);
  }
  return { ...cfg, kind };
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Writes `dir/model.safetensors` with a checkpoint's inference weights (EMA
 * when there is one; temporary file + rename) and `dir/config.json` with the
 * model config when the folder has none. Refuses non-finite weights.
 */
export async function writeModelFolder(dir: string, ck: Checkpoint): Promise<string> {
  assertFiniteCheckpoint(ck, `for ${dir} at step ${ck.state.step}`);
  const { tensors, source } = inferenceWeights(ck);
  const entries: Record<string, SafetensorsTensor> = {};
  for (const [k, t] of Object.entries(tensors)) entries[k] = { dtype: 'F32', shape: t.shape, data: t.data };
  const model = ck.state.config.model;
  const metadata: Record<string, string> = { format: 'pt', library: 'tfjs-diffusion', weights: source, step: String(ck.state.step) };
  if (typeof model?.kind === 'string') metadata.kind = model.kind;
  const path = join(dir, MODEL_WEIGHTS);
  await removeStaleTemporaries(dir, (name) => name.startsWith(`${MODEL_WEIGHTS}.tmp-`) || name.startsWith(`${MODEL_CONFIG}.tmp-`));
  await writeSafetensors(path, entries, metadata);
  const cfg = join(dir, MODEL_CONFIG);
  if (model && !(await exists(cfg))) {
    const tmp = `${cfg}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, JSON.stringify(model, null, 2) + '\n');
      await rename(tmp, cfg);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  return path;
}

export interface ReadWeightsOptions {
  /** The EMA weights when the run kept an EMA (default true); false for the raw ones (needs a checkpoint). */
  ema?: boolean;
}

export interface ModelWeights {
  /** Tensors by parameter name. */
  tensors: TensorMap;
  /** The model config (with `kind`); undefined when a checkpoint of a model without one has no config.json beside it. */
  config: ModelConfigJson | undefined;
  /** 'ema' or 'model' from a checkpoint; 'model-folder' for a model folder's weights; 'diffusers' for a diffusers UNet2DModel folder's. */
  source: WeightsSource | 'model-folder' | 'diffusers';
  /** The checkpoint folder or model folder read. */
  path: string;
  /** The training step of a checkpoint (undefined for a model folder). */
  step?: number;
}

async function configNear(ckPath: string): Promise<ModelConfigJson | undefined> {
  // ckpt-* sits in checkpoints/, which sits in the run folder.
  for (const dir of [join(ckPath, '..', '..'), join(ckPath, '..')]) {
    const p = join(dir, MODEL_CONFIG);
    if (await exists(p)) return modelConfigOf(await readJson(p), p);
  }
  return undefined;
}

export const DIFFUSERS_WEIGHTS = 'diffusion_pytorch_model.safetensors';
export const DIFFUSERS_SCHEDULER = 'scheduler_config.json';
const DIFFUSERS_PREDICTIONS = { epsilon: 'epsilon', v_prediction: 'v', sample: 'sample' } as const;

/** The scheduler config beside a diffusers model (a model folder) or in ../scheduler (a pipeline's unet/ folder), if any. */
export async function diffusersSchedulerConfigPath(dir: string): Promise<string | undefined> {
  for (const p of [join(dir, DIFFUSERS_SCHEDULER), join(dir, '..', 'scheduler', DIFFUSERS_SCHEDULER)]) if (await exists(p)) return p;
  return undefined;
}

/**
 * A diffusers UNet2DModel folder's weights under our names (models'
 * `diffusersTensors`); the prediction type comes from the scheduler config
 * beside it, epsilon (diffusers' default) without one.
 */
async function readDiffusersFolder(path: string, config: unknown, configPath: string, ema: boolean): Promise<ModelWeights> {
  const weightsPath = join(path, DIFFUSERS_WEIGHTS);
  if (!(await exists(weightsPath))) {
    const bin = (await exists(join(path, 'diffusion_pytorch_model.bin')))
      ? ' (it has diffusion_pytorch_model.bin: convert it once in Python with UNet2DModel.from_pretrained(dir).save_pretrained(dir))' : '';
    throw new Error(`${path}: a diffusers UNet2DModel folder (${configPath}) without ${DIFFUSERS_WEIGHTS}${bin}`);
  }
  if (!ema) throw new Error(`'${path}' is a diffusers model folder: it holds only the inference weights; the raw training weights need a checkpoint`);
  const schedPath = await diffusersSchedulerConfigPath(path);
  let predictionType: Prediction = 'epsilon';
  if (schedPath) {
    const p = parseDiffusersConfig(await readFile(schedPath, 'utf8'), schedPath).prediction_type ?? 'epsilon';
    if (typeof p !== 'string' || !Object.hasOwn(DIFFUSERS_PREDICTIONS, p)) {
      throw new Error(`${schedPath}: prediction_type must be one of ${Object.keys(DIFFUSERS_PREDICTIONS).map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(p)}`);
    }
    predictionType = DIFFUSERS_PREDICTIONS[p as keyof typeof DIFFUSERS_PREDICTIONS];
  }
  const { config: unet, tensors } = diffusersTensors(config as Record<string, unknown>, new Uint8Array(await readFile(weightsPath)), { predictionType, source: path });
  return { tensors, config: { ...unet }, source: 'diffusers', path };
}

/**
 * The inference weights at `path`, which is a run folder, a checkpoints
 * folder, one checkpoints/ckpt-* folder, a model folder (config.json +
 * model.safetensors) or a diffusers UNet2DModel folder (config.json with
 * `_class_name: "UNet2DModel"` + diffusion_pytorch_model.safetensors). From a checkpoint: the EMA for the trained parameters
 * and the raw weights for the frozen ones (see `inferenceWeights`).
 */
export async function readModelWeights(path: string, { ema = true }: ReadWeightsOptions = {}): Promise<ModelWeights> {
  if (await findCheckpoint(path)) {
    const ck = await readCheckpoint(path);
    const w = inferenceWeights(ck, { ema, where: ck.path });
    const config = ck.state.config.model && typeof ck.state.config.model.kind === 'string'
      ? (ck.state.config.model as ModelConfigJson)
      : await configNear(ck.path);
    return { tensors: w.tensors, config, source: w.source, path: ck.path, step: ck.state.step };
  }
  const weightsPath = join(path, MODEL_WEIGHTS);
  const configPath = join(path, MODEL_CONFIG);
  if (await exists(configPath)) {
    const json = await readJson(configPath);
    if (isDiffusersUNetConfig(json)) return readDiffusersFolder(path, json, configPath, ema);
  }
  if (!(await exists(weightsPath)) || !(await exists(configPath))) {
    throw new Error(
      `'${path}' is not a run folder (checkpoints/latest), a checkpoints folder (latest), a checkpoint (state.json) ` +
        `or a model folder (${MODEL_CONFIG} + ${MODEL_WEIGHTS})`,
    );
  }
  if (!ema) throw new Error(`'${path}' is a model folder: it holds only the inference weights; the raw training weights need a checkpoint`);
  const config = modelConfigOf(await readJson(configPath), configPath);
  const file = decodeSafetensors(new Uint8Array(await readFile(weightsPath)), weightsPath);
  const tensors: TensorMap = {};
  for (const [k, t] of Object.entries(file.tensors)) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${weightsPath}: tensor '${k}' has dtype ${t.dtype}; model weights are F32 (or F16/BF16)`);
    tensors[k] = { shape: t.shape, data: t.data };
  }
  return { tensors, config, source: 'model-folder', path };
}

/** Loads the inference weights at `path` into `model` (strict: every name and shape must match; weights must be finite). */
export async function loadWeightsFrom(model: { parameters(): NamedParameter[] }, path: string, opts: ReadWeightsOptions = {}): Promise<Omit<ModelWeights, 'tensors'>> {
  const { tensors, ...rest } = await readModelWeights(path, opts);
  const bad = firstNonFinite({ model: tensors, ema: null, adam: { m: {}, v: {} } });
  if (bad) throw new Error(`${rest.path}: ${bad} holds NaN or Inf; these weights cannot sample`);
  loadWeights(model, tensors, { source: `weights in ${rest.path}` });
  return rest;
}

/** Builds the model at `path` (by `createModel(config)` on its `kind`) with its inference weights. */
export async function loadModelFrom(path: string, opts: ReadWeightsOptions = {}): Promise<Omit<ModelWeights, 'tensors' | 'config'> & { config: ModelConfigJson; model: Model }> {
  const w = await readModelWeights(path, opts);
  if (!w.config) throw new Error(`${w.path}: no model config (state.json has none and no config.json is beside it)`);
  const model = createModel(w.config);
  try {
    const { tensors, ...rest } = w;
    const bad = firstNonFinite({ model: tensors, ema: null, adam: { m: {}, v: {} } });
    if (bad) throw new Error(`${rest.path}: ${bad} holds NaN or Inf; these weights cannot sample`);
    loadWeights(model, tensors, { source: `weights in ${rest.path}` });
    return { ...rest, config: w.config, model };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
