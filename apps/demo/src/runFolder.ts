import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diffusersRunConfig, isDiffusersFolder } from './diffusersFolder.js';
import type { DemoConfig } from './presets.js';

export interface RunPaths {
  dir: string;
  config: string;
  metrics: string;
  lossPlot: string;
  samples: string;
  checkpoints: string;
}

export function runPaths(dir: string): RunPaths {
  const d = resolve(dir);
  return {
    dir: d,
    config: join(d, 'config.json'),
    metrics: join(d, 'metrics.jsonl'),
    lossPlot: join(d, 'loss.png'),
    samples: join(d, 'samples'),
    checkpoints: join(d, 'checkpoints'),
  };
}

/** runs/<preset>-<UTC timestamp>, e.g. runs/mnist-tiny-20261124-191500. */
export function defaultRunDir(preset: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${preset}-${ts}`);
}

export function createRunFolder(dir: string, config: unknown): RunPaths {
  const p = runPaths(dir);
  if (existsSync(p.config)) throw new Error(`--out ${p.dir} already holds a run; use --resume ${p.dir} to continue it or choose another --out`);
  mkdirSync(p.samples, { recursive: true });
  mkdirSync(p.checkpoints, { recursive: true });
  writeJsonAtomic(p.config, config);
  return p;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

export function writeFileAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export interface RunConfigFile {
  demo: DemoConfig;
  model: Record<string, unknown>;
  dataset: { numClasses: number; height: number; width: number; channels: number; classNames: string[] };
  fineTunedFrom?: string;
  freeze?: string[];
}

export function readRunConfig(dir: string): RunConfigFile {
  const p = runPaths(dir);
  if (!existsSync(p.config)) throw new Error(`${p.dir} is not a run folder (no config.json)`);
  return JSON.parse(readFileSync(p.config, 'utf8')) as RunConfigFile;
}

export interface MetricsLine {
  step: number;
  loss?: number;
  valLoss?: number;
  valLossEma?: number;
  [k: string]: unknown;
}

export function readMetrics(path: string): MetricsLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as MetricsLine);
}

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
 * checkpoints/ckpt-* folder, or a diffusers model folder (config.json with
 * `_class_name: "UNet2DModel"` + diffusion_pytorch_model.safetensors). `dir` is
 * where outputs go by default; `checkpoint` what `loadWeights` reads.
 */
export function openCheckpoint(path: string): { dir: string; checkpoint: string; run: RunConfigFile } {
  if (isDiffusersFolder(path)) {
    const d = resolve(path);
    return { dir: d, checkpoint: d, run: diffusersRunConfig(d) };
  }
  const { run, checkpoint } = runOfCheckpoint(path);
  return { dir: run, checkpoint, run: readRunConfig(run) };
}
