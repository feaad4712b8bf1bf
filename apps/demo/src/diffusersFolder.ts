// diffusers model folders (config.json with _class_name "UNet2DModel" +
// diffusion_pytorch_model.safetensors): read as a checkpoint, written by `export`.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { showValue } from '@tfjs-diffusion/schedules';
import { isDiffusersUNetConfig, toDiffusers, type UNet, type UNetConfig } from '@tfjs-diffusion/models';
import { DIFFUSERS_CONFIG, DIFFUSERS_SCHEDULER, DIFFUSERS_WEIGHTS, type DiffusersScheduler } from '@tfjs-diffusion/training';
import { presetConfig, type DemoConfig } from './presets.js';
import type { RunConfigFile } from './runFolder.js';

const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** True when `dir`'s config.json is a diffusers UNet2DModel's (the weights are the loader's to find). */
export function isDiffusersFolder(dir: string): boolean {
  const cfg = join(dir, DIFFUSERS_CONFIG);
  if (!existsSync(cfg)) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(cfg, 'utf8'));
  } catch (e) {
    // Beside diffusers' weights, a config.json that does not parse is a broken diffusers folder, not a missing run.
    if (existsSync(join(dir, DIFFUSERS_WEIGHTS))) throw new Error(`${cfg}: not valid JSON (${showValue((e as Error).message)}); the folder holds ${DIFFUSERS_WEIGHTS}, so it should be diffusers' UNet2DModel config`);
    return false;
  }
  return isDiffusersUNetConfig(parsed);
}

function clipsSample(className: string, clipSample: unknown): boolean {
  return clipSample === true || ((clipSample === undefined || clipSample === null) && (className === 'DDPMScheduler' || className === 'DDIMScheduler'));
}

/**
 * A run config for the demo's commands from a diffusers model folder as the
 * one reader (training's `readModelFolder`) read it: the model, its image size
 * and classes, and the noise schedule and prediction type of its scheduler
 * config; without one, DDPM's (linear β from 1e-4 to 0.02 over 1000 steps,
 * ε-prediction), as diffusers' DDPMScheduler defaults. Sampler and training
 * settings are the mnist-tiny preset's.
 */
export function diffusersRunConfig(path: string, config: UNetConfig, sched: DiffusersScheduler | undefined): RunConfigFile {
  const dir = resolve(path);
  const sc = sched?.scheduleConfig;
  if (sc?.trainedBetas) throw new Error(`${sched!.path}: trained_betas are not supported by the demo's schedule settings`);
  const [height, width] = typeof config.sampleSize === 'number' ? [config.sampleSize, config.sampleSize] : config.sampleSize;
  const channels = config.outChannels;
  const mnistLike = height === 28 && width === 28 && channels === 1;
  const base = presetConfig('mnist-tiny');
  const demo: DemoConfig = {
    ...base,
    preset: `diffusers-${basename(dir)}`,
    classConditional: config.numClasses !== null,
    prediction: config.predictionType,
    schedule: {
      numTrainTimesteps: sc?.numTrainTimesteps ?? 1000,
      // fromDiffusersConfig has checked beta_schedule against the schedules the package knows.
      betaSchedule: sc?.betaSchedule ?? 'linear',
      betaStart: sc?.betaStart ?? 0.0001,
      betaEnd: sc?.betaEnd ?? 0.02,
      rescaleBetasZeroSnr: sc?.rescaleBetasZeroSnr ?? false,
    },
    regularizers: { ...base.regularizers, dropout: config.dropout },
    // DDPM's checkpoints were sampled with x0 clipped to [-1, 1] (clip_sample, on by default in DDPM's and DDIM's schedulers).
    sampler: { ...base.sampler, threshold: clipsSample(sched?.className ?? 'DDPMScheduler', sched?.json.clip_sample) ? 'clip' : 'none' },
  };
  const numClasses = config.numClasses ?? 0;
  return {
    demo,
    model: { ...config },
    dataset: {
      numClasses, height, width, channels,
      classNames: mnistLike && numClasses === 10 ? MNIST_CLASSES : Array.from({ length: numClasses }, (_, i) => String(i)),
    },
  };
}

/** diffusers' DDPMScheduler config for the demo's schedule and prediction type. */
export function schedulerConfigOf(demo: DemoConfig): Record<string, unknown> {
  const s = demo.schedule;
  // A flow model's scheduler is flow matching's (diffusers has no prediction_type for it).
  if (demo.prediction === 'flow') return { _class_name: 'FlowMatchEulerDiscreteScheduler', num_train_timesteps: s.numTrainTimesteps, shift: 1 };
  return {
    _class_name: 'DDPMScheduler',
    num_train_timesteps: s.numTrainTimesteps,
    beta_schedule: s.betaSchedule,
    beta_start: s.betaStart,
    beta_end: s.betaEnd,
    rescale_betas_zero_snr: s.rescaleBetasZeroSnr,
    prediction_type: demo.prediction === 'v' ? 'v_prediction' : demo.prediction,
    variance_type: 'fixed_small',
    clip_sample: false,
    timestep_spacing: 'trailing',
  };
}

/** What config.json of an export says, so a later export knows the folder for one it wrote. */
const EXPORTED_BY = 'tfjs-diffusion';
const EXPORT_FILES = [DIFFUSERS_WEIGHTS, DIFFUSERS_SCHEDULER, DIFFUSERS_CONFIG];
/** Names that make a folder a run, checkpoint or model folder: an export never writes there. */
const RUN_FILES = ['checkpoints', 'state.json', 'latest', 'lock', 'metrics.jsonl', 'model.safetensors', 'checkpoint.safetensors'];

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * What `--out` is for an export: absent, an empty folder, or an earlier export
 * (replaced only with `force`). A file, a run, checkpoint or model folder, or any
 * other folder with files in it is refused: export writes only where it wrote before.
 */
export function checkExportOut(out: string, force: boolean): 'absent' | 'empty' | 'export' {
  const dir = resolve(out);
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`--out ${dir} is a file, not a folder; choose another --out`);
    entries = readdirSync(dir);
  } catch (e) {
    if (code(e) === 'ENOENT') return 'absent';
    throw e;
  }
  if (entries.length === 0) return 'empty';
  const list = (names: string[]) => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}`;
  const run = entries.filter((e) => RUN_FILES.includes(e));
  if (run.length) throw new Error(`--out ${dir} is a run, checkpoint or model folder (it holds ${list(run)}); export never writes into one: choose another --out`);
  let own = false;
  try {
    own = (JSON.parse(readFileSync(join(dir, DIFFUSERS_CONFIG), 'utf8')) as Record<string, unknown>)._exported_by === EXPORTED_BY;
  } catch {
    // Not JSON, or absent: not an export.
  }
  const others = entries.filter((e) => !EXPORT_FILES.includes(e));
  if (!own || others.length) {
    throw new Error(`--out ${dir} holds files that are not an export of this command (${list(others.length ? others : entries)}); export replaces only a folder it wrote: choose another --out`);
  }
  if (!force) throw new Error(`--out ${dir} is not empty; it holds an earlier export: pass --force to replace it, or choose another folder`);
  return 'export';
}

/**
 * Writes `model` as a diffusers folder, whole or not at all: the three files go
 * into a new temporary folder beside `out` (created exclusively), which is then
 * renamed to `out`. A rename fails when another export got there first, so two
 * exports to one `out` never mix one model's config with the other's weights.
 * `force` replaces an earlier export (moved aside, then removed); nothing else is replaced.
 */
export function writeDiffusersFolder(out: string, model: UNet, demo: DemoConfig, { force = false } = {}): { config: Record<string, unknown>; files: string[] } {
  const dir = resolve(out);
  const state = checkExportOut(dir, force);
  const exported = toDiffusers(model);
  const config: Record<string, unknown> = { ...exported.config, _exported_by: EXPORTED_BY };
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-export-`);
  let aside: string | undefined;
  try {
    writeFileSync(join(tmp, DIFFUSERS_WEIGHTS), exported.weights);
    writeFileSync(join(tmp, DIFFUSERS_SCHEDULER), JSON.stringify({ ...schedulerConfigOf(demo), _diffusers_version: config._diffusers_version }, null, 2) + '\n');
    writeFileSync(join(tmp, DIFFUSERS_CONFIG), JSON.stringify(config, null, 2) + '\n');
    if (state === 'export') {
      aside = `${tmp}-replaced`;
      try {
        renameSync(dir, aside);
      } catch (e) {
        if (code(e) !== 'ENOENT') throw e;
        aside = undefined; // another export moved it first
      }
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes(code(e) ?? '')) {
        throw new Error(`--out ${dir} was written by another export meanwhile; this export kept nothing there (run it again to replace that one with --force)`);
      }
      throw e;
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (aside && !existsSync(dir)) renameSync(aside, dir);
    throw e;
  }
  if (aside) rmSync(aside, { recursive: true, force: true });
  return { config, files: EXPORT_FILES.map((f) => join(dir, f)) };
}
