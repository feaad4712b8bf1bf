// diffusers model folders (config.json with _class_name "UNet2DModel" +
// diffusion_pytorch_model.safetensors): read as a checkpoint, written by `export`.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '@tfjs-diffusion/schedules/node';
import { basename, join, resolve } from 'node:path';
import { isDiffusersUNetConfig, toDiffusers, unetConfigFromDiffusers, type UNet } from '@tfjs-diffusion/models';
import { fromDiffusersConfig } from '@tfjs-diffusion/samplers';
import { DIFFUSERS_CONFIG, DIFFUSERS_SCHEDULER, DIFFUSERS_SCHEDULER_PATHS, DIFFUSERS_WEIGHTS } from '@tfjs-diffusion/training';
import { presetConfig, type DemoConfig } from './presets.js';
import type { RunConfigFile } from './runFolder.js';

const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** True when `dir`'s config.json is a diffusers UNet2DModel's (the weights are the loader's to find). */
export function isDiffusersFolder(dir: string): boolean {
  const cfg = join(dir, DIFFUSERS_CONFIG);
  if (!existsSync(cfg)) return false;
  try {
    return isDiffusersUNetConfig(JSON.parse(readFileSync(cfg, 'utf8')));
  } catch {
    return false;
  }
}

/** The scheduler config where the one reader (training's `readModelFolder`) looks for it, if any. */
function schedulerConfigPath(dir: string): string | undefined {
  return DIFFUSERS_SCHEDULER_PATHS.map((p) => join(dir, p)).find((p) => existsSync(p));
}

function clipsSample(className: string, clipSample: unknown): boolean {
  return clipSample === true || ((clipSample === undefined || clipSample === null) && (className === 'DDPMScheduler' || className === 'DDIMScheduler'));
}

/**
 * A run config for the demo's commands from a diffusers model folder: the
 * model, its image size and classes, and the noise schedule and prediction
 * type of the scheduler_config.json beside it (or in ../scheduler/); without
 * one, DDPM's (linear β from 1e-4 to 0.02 over 1000 steps, ε-prediction), as
 * diffusers' DDPMScheduler defaults. Sampler and training settings are the
 * mnist-tiny preset's. The weights are read by the one loader (training's `readModelWeights`).
 */
export function diffusersRunConfig(path: string): RunConfigFile {
  const dir = resolve(path);
  const schedPath = schedulerConfigPath(dir);
  let sched: ReturnType<typeof fromDiffusersConfig> | undefined;
  try {
    sched = schedPath ? fromDiffusersConfig(readFileSync(schedPath, 'utf8')) : undefined;
  } catch (e) {
    throw new Error(`${schedPath}: ${(e as Error).message}`);
  }
  const sc = sched?.scheduleConfig;
  const raw = schedPath ? (JSON.parse(readFileSync(schedPath, 'utf8')) as Record<string, unknown>) : {};
  if (sc?.trainedBetas) throw new Error(`${schedPath}: trained_betas are not supported by the demo's schedule settings`);
  const config = unetConfigFromDiffusers(readFileSync(join(dir, DIFFUSERS_CONFIG), 'utf8'), {
    predictionType: sched?.prediction ?? 'epsilon', source: dir,
  });
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
    sampler: { ...base.sampler, threshold: clipsSample(sched?.className ?? 'DDPMScheduler', raw.clip_sample) ? 'clip' : 'none' },
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
  return {
    _class_name: 'DDPMScheduler',
    _diffusers_version: '0.21.4',
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

const writeAtomic = (path: string, data: string | Uint8Array) => writeFileAtomicSync(path, data);

/**
 * Writes `model` as a diffusers folder: the weights, scheduler_config.json,
 * then config.json last (each to a temporary file, then renamed), so a folder
 * cut short is never taken for a whole one. Refuses a non-empty `out` unless `force`.
 */
export function writeDiffusersFolder(out: string, model: UNet, demo: DemoConfig, { force = false } = {}): { config: Record<string, unknown>; files: string[] } {
  const dir = resolve(out);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new Error(`--out ${dir} is not empty; choose another folder or pass --force to overwrite the files there`);
  }
  const { config, weights } = toDiffusers(model);
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, DIFFUSERS_WEIGHTS), join(dir, DIFFUSERS_SCHEDULER), join(dir, DIFFUSERS_CONFIG)];
  writeAtomic(files[0]!, weights);
  writeAtomic(files[1]!, JSON.stringify(schedulerConfigOf(demo), null, 2) + '\n');
  writeAtomic(files[2]!, JSON.stringify(config, null, 2) + '\n');
  return { config, files };
}
