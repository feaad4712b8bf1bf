// diffusers UNet2DModel folders read from name → bytes: config.json with
// `_class_name: "UNet2DModel"`, diffusion_pytorch_model.safetensors, and the
// scheduler config beside it or in a pipeline's ../scheduler/.
import { diffusersTensors, type UNetConfig } from '@tfjs-diffusion/models';
import { fromDiffusersConfig, type FromDiffusersConfigResult } from '@tfjs-diffusion/samplers';
import { hasFile, readJsonFile, type FolderFiles } from './folder.js';

export const DIFFUSERS_CONFIG = 'config.json';
export const DIFFUSERS_WEIGHTS = 'diffusion_pytorch_model.safetensors';
export const DIFFUSERS_SCHEDULER = 'scheduler_config.json';
/** Where a scheduler config is looked for, in order: beside the model, then a pipeline's scheduler/ folder. */
export const DIFFUSERS_SCHEDULER_PATHS = [DIFFUSERS_SCHEDULER, `../scheduler/${DIFFUSERS_SCHEDULER}`] as const;

/** A diffusers scheduler config as read: its path, the JSON object and samplers' reading of it. */
export interface DiffusersScheduler extends FromDiffusersConfigResult {
  path: string;
  json: Record<string, unknown>;
}

/**
 * The scheduler config of a diffusers model folder, read by samplers'
 * `fromDiffusersConfig` (a config without `_class_name` reads as DDPMScheduler,
 * diffusers' training default); undefined when there is none.
 */
export async function readDiffusersScheduler(folder: FolderFiles): Promise<DiffusersScheduler | undefined> {
  for (const path of DIFFUSERS_SCHEDULER_PATHS) {
    const json = await readJsonFile(folder, path);
    if (json === undefined) continue;
    try {
      return { ...fromDiffusersConfig(json, json._class_name === undefined ? { as: 'DDPMScheduler' } : {}), path: folder.describe(path), json };
    } catch (e) {
      throw new Error(`${folder.describe(path)}: ${(e as Error).message}`);
    }
  }
  return undefined;
}

/**
 * A diffusers UNet2DModel folder's config and weights under our names (models'
 * `diffusersTensors`), with the prediction type of its scheduler config
 * (epsilon, diffusers' default, without one).
 */
export async function readDiffusersFolder(folder: FolderFiles, config: Record<string, unknown>): Promise<{
  config: UNetConfig; tensors: Record<string, { shape: number[]; data: Float32Array }>; scheduler: DiffusersScheduler | undefined;
}> {
  if (config._class_name !== 'UNet2DModel') {
    throw new Error(`${folder.describe(DIFFUSERS_CONFIG)}: _class_name ${JSON.stringify(config._class_name)} is not supported; accepted: "UNet2DModel"`);
  }
  const weights = await folder.read(DIFFUSERS_WEIGHTS);
  if (weights === undefined) {
    const bin = (await hasFile(folder, 'diffusion_pytorch_model.bin'))
      ? ' (it has diffusion_pytorch_model.bin: convert it once in Python with UNet2DModel.from_pretrained(dir).save_pretrained(dir))' : '';
    throw new Error(`${folder.describe('')}: a diffusers UNet2DModel folder (${folder.describe(DIFFUSERS_CONFIG)}) without ${DIFFUSERS_WEIGHTS}${bin}`);
  }
  const scheduler = await readDiffusersScheduler(folder);
  const read = diffusersTensors(config, weights, { predictionType: scheduler?.prediction ?? 'epsilon', source: folder.describe('') });
  return { ...read, scheduler };
}
