import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@tfjs-diffusion/schedules/node';
import { createModel, loadWeights, modelConfigOf, modelTensors, type Model } from './io.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';

const WEIGHTS = 'model.safetensors';
const CONFIG = 'config.json';

/** Writes a safetensors file atomically: to a temporary file beside it, then renamed over `path`. */
export async function writeSafetensors(path: string, tensors: Record<string, SafetensorsTensor>, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads a safetensors file; a truncated or corrupt file gives an error naming it and what is wrong. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFile(path), path);
}

/** Writes dir/model.safetensors and dir/config.json (each to a temporary file, then renamed). */
export async function saveModel(model: Model, dir: string): Promise<void> {
  await writeSafetensors(join(dir, WEIGHTS), modelTensors(model), { format: 'pt', library: 'tfjs-diffusion', kind: model.config.kind });
  await writeFileAtomic(join(dir, CONFIG), JSON.stringify(model.config, null, 2) + '\n');
}

/**
 * Rebuilds the model saved in `dir` and loads its weights (strict).
 * `config.json` is a bare model config (as `saveModel` writes) or a run
 * folder's config with the model config under `model`.
 */
export async function loadModel(dir: string): Promise<Model> {
  const cfgPath = join(dir, CONFIG);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(cfgPath, 'utf8'));
  } catch (e) {
    throw new Error(`loadModel: cannot read ${cfgPath}: ${(e as Error).message}`);
  }
  const config = modelConfigOf(json, `loadModel: ${cfgPath}`);
  const file = await readSafetensors(join(dir, WEIGHTS));
  const model = createModel(config);
  try {
    loadWeights(model, file.tensors, { source: join(dir, WEIGHTS) });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
