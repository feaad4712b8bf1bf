/**
 * Training mnist-tiny in the tab with the demo's own recipe (read from the
 * shipped run config: schedule, prediction, learning rate, EMA, label
 * dropout, weight decay, clipping), and writing the result as a model folder.
 */
import * as tf from '@tensorflow/tfjs';
import { batchSource, type ImageDataset } from '@tfjs-diffusion/data';
import { createModel, type Model } from '@tfjs-diffusion/models';
import { makeSchedule, type NoiseSchedule, type ScheduleConfig } from '@tfjs-diffusion/schedules';
import { createTrainer, encodeModelFolder, type FitResult, type StepEvent, type Trainer, type TrainerOptions } from '@tfjs-diffusion/training';
import type { Digits } from './mnist.js';
import type { LoadedModel } from './modelFolder.js';

/** The parts of the demo's run config the page's trainer reads. */
export interface RunConfig {
  demo: {
    preset?: string;
    schedule: ScheduleConfig;
    steps: number;
    batchSize: number;
    lr: number;
    lrSchedule: 'constant' | 'cosine';
    warmupSteps: number;
    seed: number;
    regularizers: { ema: number; weightDecay: number; clipGradNorm: number; pUncond: number; dropout?: number };
    [k: string]: unknown;
  };
  model: Record<string, unknown>;
  dataset: { numClasses: number; height: number; width: number; channels: number; classNames?: string[] };
  [k: string]: unknown;
}

export interface TrainSettings {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export interface InTabTrainer {
  readonly trainer: Trainer;
  readonly model: Model;
  readonly schedule: NoiseSchedule;
  readonly config: RunConfig;
  readonly losses: number[];
  /**
   * Trains to `steps` on the library's loop: `signal` (the stop button) stops at
   * a step boundary, `onStep` (status line, live plot, previews) runs after each step.
   */
  train(o: { signal?: AbortSignal; onStep?: (e: StepEvent) => unknown }): Promise<FitResult>;
  /** The model (with the EMA weights swapped in) as a LoadedModel for sampling previews. */
  withEma<T>(fn: (m: LoadedModel) => Promise<T>): Promise<T>;
  /** The model folder's two files: config.json (a run config) and model.safetensors (EMA weights). */
  modelFolder(): Promise<{ config: string; weights: Uint8Array }>;
  dispose(): Promise<void>;
}

export function digitsDataset(d: Digits, limit = d.count): ImageDataset {
  const n = Math.min(limit, d.count);
  const size = d.height * d.width;
  const images = new Float32Array(n * size);
  for (let i = 0; i < images.length; i++) images[i] = d.pixels[i]! / 127.5 - 1;
  return {
    images,
    shape: [n, d.height, d.width, 1],
    labels: Int32Array.from(d.labels.subarray(0, n)),
    classNames: Array.from({ length: 10 }, (_, c) => String(c)),
  } as ImageDataset;
}

export async function createInTabTrainer(base: RunConfig, digits: Digits, s: TrainSettings): Promise<InTabTrainer> {
  for (const [k, v] of Object.entries({ steps: s.steps, batchSize: s.batchSize, seed: s.seed })) {
    if (!Number.isInteger(v) || v < (k === 'seed' ? 0 : 1)) throw new Error(`${k} must be a ${k === 'seed' ? 'non-negative' : 'positive'} integer; got ${v}`);
  }
  if (!(s.lr > 0 && s.lr < 1)) throw new Error(`learning rate must be in (0, 1); got ${s.lr}`);
  const config: RunConfig = {
    ...base,
    demo: { ...base.demo, steps: s.steps, batchSize: s.batchSize, lr: s.lr, seed: s.seed, threads: 1 },
  };
  const c = config.demo;
  const r = c.regularizers;
  const schedule = makeSchedule(c.schedule);
  const model = createModel(config.model, { seed: s.seed });
  const data = batchSource(digitsDataset(digits), { batchSize: s.batchSize, seed: s.seed + 1, labels: true });
  const options: TrainerOptions = {
    denoiser: model,
    schedule,
    data,
    learningRate: { schedule: c.lrSchedule, peak: s.lr, warmupSteps: Math.min(c.warmupSteps, Math.floor(s.steps / 4)), totalSteps: s.steps },
    regularizers: {
      ema: r.ema > 0 ? { decay: r.ema, useEmaWarmup: true, power: 3 / 4 } : undefined,
      weightDecay: r.weightDecay,
      clipGradNorm: r.clipGradNorm > 0 ? r.clipGradNorm : undefined,
      pUncond: r.pUncond > 0 ? r.pUncond : undefined,
      dropout: r.dropout && r.dropout > 0 ? r.dropout : undefined,
    },
    seed: s.seed,
  };
  let trainer: Trainer;
  try {
    trainer = await createTrainer(options);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const losses: number[] = [];
  const loaded = (): LoadedModel => ({
    model, schedule, numClasses: config.dataset.numClasses, height: config.dataset.height, width: config.dataset.width,
    channels: config.dataset.channels, config, description: `mnist-tiny trained in this tab (${trainer.step} steps)`, notes: [],
  });
  return {
    trainer, model, schedule, config, losses,
    train({ signal, onStep }) {
      return trainer.fit({
        steps: Math.max(0, s.steps - trainer.step),
        signal,
        onStep: (e) => {
          losses.push(e.loss);
          return onStep?.(e);
        },
      });
    },
    withEma(fn) {
      const run = () => fn(loaded());
      return trainer.ema ? trainer.ema.withAveraged(run) : run();
    },
    async modelFolder() {
      // The one writer of a model folder: the weights cli sample and the page take (EMA for trained, raw for frozen).
      const files = encodeModelFolder(trainer.checkpoint(), { config: { ...config, demo: { ...config.demo, steps: trainer.step } } });
      return { config: files.config!, weights: files.weights };
    },
    async dispose() {
      await trainer.dispose();
      tf.tidy(() => model.dispose());
    },
  };
}
