// What a command's --checkpoint names, and the run config that goes with it: the
// training package's one reader (`readModelFolder`) says what the folder is.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveUNetConfig, uncheckedOptions } from '@tfjs-diffusion/models';
import { readModelFolder, type ModelFolder } from '@tfjs-diffusion/training';
import { nodeFolder } from '@tfjs-diffusion/training/node';
import { diffusersRunConfig, isDiffusersFolder } from './diffusersFolder.js';
import { checkRunConfig, readRunConfig, runPaths, type RunConfigFile } from './runFolder.js';

export interface OpenedCheckpoint {
  /** Where outputs go by default: the run folder, or the model / diffusers folder itself. */
  dir: string;
  /** What `loadWeights` reads. */
  checkpoint: string;
  run: RunConfigFile;
}

/** The run folder of a checkpoint the reader found: the folder of the config.json it read beside it (../.. first, as the reader looks). */
function runDirOf(read: ModelFolder): string {
  const ck = resolve(read.path);
  const up2 = resolve(ck, '../..');
  return existsSync(join(up2, 'config.json')) && existsSync(join(up2, 'checkpoints')) ? up2 : dirname(ck);
}

/**
 * What `--checkpoint` names: a run folder, its checkpoints/ folder, one
 * checkpoints/ckpt-* folder, a model folder with a run config (config.json +
 * model.safetensors, e.g. the playground's download), or a diffusers model
 * folder (config.json with `_class_name: "UNet2DModel"` +
 * diffusion_pytorch_model.safetensors), as training's `readModelFolder` reads them.
 */
export async function openCheckpoint(path: string): Promise<OpenedCheckpoint> {
  const d = resolve(path);
  let read: ModelFolder;
  try {
    read = await readModelFolder(nodeFolder(d));
  } catch (e) {
    // A broken diffusers config.json beside its weights, or a run's, is named as such (these throw so).
    isDiffusersFolder(d);
    for (const up of ['.', '..', '../..']) {
      const r = resolve(d, up);
      if (existsSync(join(r, 'config.json')) && existsSync(join(r, 'checkpoints'))) readRunConfig(r);
    }
    throw new Error(`--checkpoint ${path}: ${(e as Error).message}`);
  }
  if (read.source === 'diffusers') return { dir: d, checkpoint: d, run: diffusersRunConfig(d, resolveUNetConfig(uncheckedOptions(read.config!)), read.scheduler) };
  const isCheckpoint = read.source === 'ema' || read.source === 'model';
  const dir = isCheckpoint ? runDirOf(read) : d;
  const where = isCheckpoint && read.runConfig ? runPaths(dir).config : join(d, 'config.json');
  if (!read.runConfig) throw new Error(`--checkpoint ${path}: no run folder (config.json + checkpoints/) at it or above it`);
  // A run folder's weights are its checkpoints/ folder's (the one `latest` names when they are read).
  return { dir, checkpoint: dir === d && isCheckpoint ? join(d, 'checkpoints') : d, run: checkRunConfig(read.runConfig, where) };
}
