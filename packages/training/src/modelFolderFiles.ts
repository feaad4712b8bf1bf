// Model folders on disk (Node): the one reader (`readModelFolder`) over the
// files of a path, and the one writer's files put in place atomically.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@tfjs-diffusion/schedules/node';
import type { Model, ModelConfigJson } from '@tfjs-diffusion/models';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import { checkOptions } from '@tfjs-diffusion/schedules';
import { assertFiniteCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  encodeModelFolder, loadFolderWeights, loadModelFolder, readModelFolder, MODEL_CONFIG, MODEL_WEIGHTS, READ_WEIGHTS_KEYS,
  type ModelFolder, type ReadWeightsOptions,
} from './modelFolder.js';
import { exists, nodeFolder, removeStaleTemporaries } from './nodeFolder.js';

/** The weights to sample with at `path` (see `readModelFolder` for what it may be and which weights). */
export async function readModelWeights(path: string, opts: ReadWeightsOptions = {}): Promise<ModelFolder> {
  checkOptions('readModelWeights', opts, READ_WEIGHTS_KEYS);
  return readModelFolder(nodeFolder(path), opts);
}

/** Loads the weights to sample with at `path` into `model` (strict: every name and shape must match; weights must be finite). */
export async function loadWeightsFrom(model: { parameters(): NamedParameter[] }, path: string, opts: ReadWeightsOptions = {}): Promise<Omit<ModelFolder, 'tensors'>> {
  checkOptions('loadWeightsFrom', opts, READ_WEIGHTS_KEYS);
  return loadFolderWeights(model, nodeFolder(path), opts);
}

/** Builds the model at `path` (by `createModel(config)` on its `kind`) with the weights to sample with. */
export async function loadModelFrom(path: string, opts: ReadWeightsOptions = {}): Promise<Omit<ModelFolder, 'tensors' | 'config'> & { config: ModelConfigJson; model: Model }> {
  checkOptions('loadModelFrom', opts, READ_WEIGHTS_KEYS);
  return loadModelFolder(nodeFolder(path), opts);
}

/**
 * Writes `dir/model.safetensors` with a checkpoint's weights to sample with
 * (`encodeModelFolder`; temporary file + rename) and `dir/config.json` with the
 * model config when the folder has none. Refuses non-finite weights.
 */
export async function writeModelFolder(dir: string, ck: Checkpoint): Promise<string> {
  assertFiniteCheckpoint(ck, `for ${dir} at step ${ck.state.step}`);
  const files = encodeModelFolder(ck);
  await mkdir(dir, { recursive: true });
  await removeStaleTemporaries(dir, (name) => name.startsWith(`${MODEL_WEIGHTS}.tmp-`) || name.startsWith(`${MODEL_CONFIG}.tmp-`));
  const path = join(dir, MODEL_WEIGHTS);
  await writeFileAtomic(path, files.weights);
  const cfg = join(dir, MODEL_CONFIG);
  if (files.config !== undefined && !(await exists(cfg))) await writeFileAtomic(cfg, files.config);
  return path;
}
