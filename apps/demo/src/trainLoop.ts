import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { planThreads } from '@tfjs-diffusion/backend';
import { createTrainer, type StepEvent, type Trainer, type TrainerOptions } from '@tfjs-diffusion/training';
import { jsonlWriter, loadCheckpoint, readModelWeights, saveCheckpoint, truncateMetrics, workerThreads, type ParallelSampler } from '@tfjs-diffusion/training/node';
import { selectByEitherName } from '@tfjs-diffusion/models';
import { buildModel, buildSchedule, gridLabels, sampleImages, startSampler } from './build.js';
import { batchSource, checkDatasetShape, dataName, loadDataset } from './dataset.js';
import { imageGridPng } from '@tfjs-diffusion/viz/node';
import type { ImageGridOptions } from '@tfjs-diffusion/viz';
import { writeLossPlot } from './plot.js';
import { createProgress } from './progress.js';
import { checkpointStep, writeFileAtomic, type RunConfigFile, type RunPaths } from './runFolder.js';
import { startLoraTraining } from './lora.js';
import { onStop, stopName, type StopSignal } from './interrupt.js';

export interface TrainRunResult {
  run: string;
  step: number;
  samples: string[];
  lossPlot: string;
  seconds: number;
  imagesPerSecond: number;
  interrupted: boolean;
  /** What stopped the run when `interrupted`: the exit code is 128 + its number. */
  signal?: StopSignal;
}

export interface TrainRunOptions {
  paths: RunPaths;
  run: RunConfigFile;
  resume: boolean;
  fineTune?: { checkpoint: string; freeze: string[] };
  quiet?: boolean;
  /** Called once the run can start (after a resumed checkpoint loaded), before the first step: e.g. to write a changed config.json. */
  afterLoad?: () => void;
  /** Stop after this many steps in this process (tests); the run's total stays config.steps. */
  maxStepsThisProcess?: number;
}

const pad = (s: number) => String(s).padStart(6, '0');

/** The demo's training loop: progress bar, JSON-lines metrics, validation, sample grids, checkpoints, Ctrl-C. */
export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const c = o.run.demo;
  const { paths } = o;
  const log = (s: string) => { if (!o.quiet) console.log(s); };
  const data = await loadDataset(c, { trainSize: c.trainSize, valSize: c.valSize, seed: c.seed, log });
  // The grids and the validation set take the model's shape, which must be the dataset's.
  const { height, width, channels } = o.run.dataset;
  checkDatasetShape(o.run.dataset, data.train, dataName(c), paths.config);
  const numClasses = c.classConditional ? data.train.numClasses : undefined;
  const schedule = buildSchedule(c);
  const model = buildModel(o.run.model, c.seed);
  log(`model: U-Net '${c.model.preset}', ${model.numParameters().toLocaleString('en')} parameters; data: ${c.dataset === 'folder' ? c.dataDir : c.dataset}, ${data.train.n} train / ${data.val.n} validation images`);
  // Under tfjs-node TensorFlow's pool uses the cores: no worker threads there.
  const threads = planThreads(c.threads, tf.getBackend());
  log(threads.message);
  const source = batchSource(data.train, { batchSize: c.batchSize, seed: c.seed + 1, shift: c.augmentShift, flip: c.randomFlip, labels: c.classConditional });
  const resumable = latestStep(paths.checkpoints) !== undefined;
  // A LoRA run trains its adapter alone, from its source's weights on every start, on one thread (workers would not hold the base weights); its grids sample merged.
  const lora = o.run.lora && o.run.fineTunedFrom ? await startLoraTraining(model, o.run.lora, o.run.fineTunedFrom) : undefined;
  const valImages = tf.tensor4d(data.val.data, [data.val.n, height, width, channels]);
  const r = c.regularizers;
  const options: TrainerOptions = {
    denoiser: lora?.denoiser ?? model,
    schedule,
    data: source,
    validation: { images: valImages, labels: c.classConditional ? data.val.labels : undefined, timesteps: 10, seed: 1234, batchSize: 128 },
    learningRate: { schedule: c.lrSchedule, peak: c.lr, warmupSteps: c.warmupSteps, totalSteps: c.steps },
    regularizers: {
      ema: r.ema > 0 ? { decay: r.ema, useEmaWarmup: true, power: 3 / 4 } : undefined,
      dropout: r.dropout > 0 ? r.dropout : undefined,
      weightDecay: r.weightDecay,
      clipGradNorm: r.clipGradNorm > 0 ? r.clipGradNorm : undefined,
      minSnrGamma: r.minSnrGamma > 0 ? r.minSnrGamma : undefined,
      offsetNoise: r.offsetNoise > 0 ? r.offsetNoise : undefined,
      inputPerturbation: r.inputPerturbation > 0 ? r.inputPerturbation : undefined,
      pUncond: c.classConditional && r.pUncond > 0 ? r.pUncond : undefined,
    },
    // Freeze patterns may use diffusers' names too; the trainer gets ours.
    freeze: !lora && o.fineTune?.freeze.length ? selectByEitherName(model, o.fineTune.freeze) : undefined,
    // A run stopped before its first checkpoint starts again from its config (and its fine-tuning source).
    fineTune: !lora && o.fineTune && !(o.resume && resumable) ? { weights: (await readModelWeights(o.fineTune.checkpoint)).tensors } : undefined,
    seed: c.seed,
    parallel: !lora && threads.replicas > 1 ? workerThreads({ threads: threads.replicas }) : undefined,
  };
  let trainer: Trainer | undefined;
  // The grids' sampler: the run's threads, started at the first grid and kept for the others.
  let gridSampler: ParallelSampler | undefined;
  const stop = new AbortController();
  let saving = false;
  // Ctrl-C, SIGTERM, SIGHUP: a second one leaves at once; checkpoints are written to a temp folder and renamed, so the last one stays whole.
  const ctrlC = onStop((sig) => {
    stop.abort();
    process.stderr.write(`\n${stopName(sig)}: ${saving ? 'finishing the checkpoint' : 'saving a checkpoint'} and exiting (${stopName(sig)} again to exit at once)\n`);
  });
  const progressRef: { p?: ReturnType<typeof createProgress> } = {};
  try {
    trainer = await createTrainer(options);
    if (o.resume && resumable) {
      await loadCheckpoint(trainer, paths.checkpoints);
      // Steps after the checkpoint are redone: their metrics lines go.
      truncateMetrics(paths.metrics, trainer.step);
      checkResumeSteps(paths.dir, c.steps, trainer.step);
      log(`resumed at step ${trainer.step}`);
      o.afterLoad?.();
    } else {
      if (o.resume) {
        truncateMetrics(paths.metrics, 0);
        log(`no checkpoint in ${paths.checkpoints} yet (stopped before its first one): starting from step 0 with ${paths.config}`);
        o.afterLoad?.();
      }
      if (lora) log(`fine-tuning from ${o.run.fineTunedFrom}: ${lora.describe()}`);
      else if (o.fineTune) log(`fine-tuning from ${o.fineTune.checkpoint}: ${trainer.trainable().length} trainable, ${trainer.frozen().length} frozen parameter tensors`);
    }
    const metrics = jsonlWriter(paths.metrics);
    const startStep = trainer.step;
    const end = Math.min(c.steps, o.maxStepsThisProcess !== undefined ? startStep + o.maxStepsThisProcess : c.steps);
    const samples: string[] = [];
    const t0 = performance.now();
    const progress = createProgress(startStep, c.steps, c.batchSize, o.quiet);
    progressRef.p = progress;
    let lossSum = 0;
    let lossN = 0;
    let ips = 0;
    const tr = trainer;
    const sampleGrid = async (step: number) => {
      const labels = gridLabels(numClasses, c.sampler.cols);
      const n = labels?.length ?? c.sampler.cols * c.sampler.cols;
      gridSampler ??= await startSampler(model, threads.replicas);
      const parallel = gridSampler;
      const run = async () => sampleImages(model, schedule, {
        ...c.sampler, sampler: c.sampler.name, seed: 42, labels, n, numClasses, height, width, channels,
      }, undefined, parallel);
      const adapted = lora ? () => lora.merged(run) : run;
      const pixels = tr.ema ? await tr.ema.withAveraged(adapted) : await adapted();
      const file = join(paths.samples, `step-${pad(step)}.png`);
      writeFileAtomic(file, imageGridPng(pixels, { n, height, width, channels: channels as ImageGridOptions['channels'], cols: c.sampler.cols, padding: 2 }));
      samples.push(file);
      return file;
    };
    let savedStep = -1;
    const checkpoint = async () => {
      saving = true;
      // The run folder gets model.safetensors too: every run folder is a model folder.
      try {
        await saveCheckpoint(tr, paths.checkpoints, { keep: 2, modelDir: lora ? undefined : paths.dir });
        lora?.write(paths.dir, tr);
      } finally { saving = false; }
      savedStep = tr.step;
    };
    // The demo's part of each step, on the library's loop: progress, metrics lines, validation, plot, grids, checkpoints.
    const onStep = async (res: StepEvent) => {
      const step = res.step;
      lossSum += res.loss;
      lossN += 1;
      ips = res.stepsPerSecond * c.batchSize;
      progress.update(step, res.loss, ips);
      const last = res.last;
      const line: Record<string, unknown> = {};
      if (step % c.every.validate === 0 || last) {
        line.valLoss = (await tr.evaluate()).loss;
        if (tr.ema) line.valLossEma = (await tr.evaluate({ useEma: true })).loss;
      }
      if (step % c.every.log === 0 || last || line.valLoss !== undefined) {
        metrics.write({ step, loss: lossSum / lossN, lr: res.learningRate, gradNorm: res.gradNorm, imagesPerSecond: ips, time: new Date().toISOString(), ...line });
        lossSum = 0;
        lossN = 0;
      }
      if (line.valLoss !== undefined) writeLossPlot(paths.metrics, paths.lossPlot, { minSnrGamma: c.regularizers.minSnrGamma });
      if (step % c.every.sample === 0 || last) await sampleGrid(step);
      // A non-finite step is never checkpointed: the last finite checkpoint stays.
      if ((step % c.every.checkpoint === 0 || last) && !res.skipped) await checkpoint();
    };
    await tr.fit({ steps: Math.max(0, end - startStep), signal: stop.signal, onStep });
    const stopRequested = stop.signal.aborted;
    if (stopRequested && tr.step > startStep && savedStep !== tr.step && tr.guard.consecutive === 0) {
      await checkpoint();
      writeLossPlot(paths.metrics, paths.lossPlot, { minSnrGamma: c.regularizers.minSnrGamma });
    }
    progress.stop();
    const seconds = (performance.now() - t0) / 1000;
    return { run: paths.dir, step: tr.step, samples, lossPlot: paths.lossPlot, seconds, imagesPerSecond: ips, interrupted: stopRequested, signal: ctrlC.signal };
  } finally {
    progressRef.p?.stop();
    ctrlC.release();
    if (trainer) await trainer.dispose();
    await gridSampler?.dispose();
    valImages.dispose();
    lora?.adapter.remove();
    model.dispose();
  }
}

/** The step of the checkpoint `<checkpoints>/latest` names (from its ckpt-<step> name); undefined when there is none. */
export function latestStep(checkpoints: string): number | undefined {
  const latest = join(checkpoints, 'latest');
  if (!existsSync(latest)) return undefined;
  const step = checkpointStep(readFileSync(latest, 'utf8').trim());
  // A 'latest' that names no ckpt-<step> folder is the checkpoint reader's to report.
  return step ?? -1;
}

/** A resume trains on to a larger --steps; a smaller one than the step reached is refused, never written. */
export function checkResumeSteps(dir: string, steps: number, reached: number): void {
  if (steps < reached) {
    throw new Error(`--steps ${steps}: ${dir} has trained ${reached} steps; a resume trains on to a larger --steps (or, without --steps, to the run's own total)`);
  }
}
