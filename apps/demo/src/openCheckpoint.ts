// What a command's --checkpoint names, and the run config that goes with it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diffusersRunConfig, isDiffusersFolder } from './diffusersFolder.js';
import { readRunConfig, type RunConfigFile } from './runFolder.js';

/**
 * Finds the run folder of a checkpoint path: a run folder itself, its checkpoints/ folder,
 * or one checkpoints/ckpt-* folder.
 */
export function runOfCheckpoint(path: string): { run: string; checkpoint: string } {
  let d = resolve(path);
  for (let i = 0; i < 3; i++) {
    if (existsSync(join(d, 'config.json')) && existsSync(join(d, 'checkpoints'))) {
      return { run: d, checkpoint: d === resolve(path) ? join(d, 'checkpoints') : resolve(path) };
    }
    d = resolve(d, '..');
  }
  throw new Error(`--checkpoint ${path}: no run folder (config.json + checkpoints/) at it or above it`);
}

/**
 * What `--checkpoint` names: a run folder, its checkpoints/ folder, one
 * checkpoints/ckpt-* folder, a model folder with a run config (config.json +
 * model.safetensors, e.g. the playground's download), or a diffusers model
 * folder (config.json with `_class_name: "UNet2DModel"` +
 * diffusion_pytorch_model.safetensors). `dir` is where outputs go by default;
 * `checkpoint` what `loadWeights` reads.
 */
export function openCheckpoint(path: string): { dir: string; checkpoint: string; run: RunConfigFile } {
  const d = resolve(path);
  if (isDiffusersFolder(path)) return { dir: d, checkpoint: d, run: diffusersRunConfig(d) };
  if (existsSync(join(d, 'config.json')) && existsSync(join(d, 'model.safetensors')) && !existsSync(join(d, 'checkpoints'))) {
    return { dir: d, checkpoint: d, run: readRunConfig(d) };
  }
  const { run, checkpoint } = runOfCheckpoint(path);
  return { dir: run, checkpoint, run: readRunConfig(run) };
}
