// The training loop over a trainer: logging windows, validation and checkpoint
// hooks, a stop signal and one per-step hook (as Keras' onBatchEnd with
// `stop_training`, here an AbortSignal) that apps build progress, sample
// grids, checkpoints and plots on.
import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { FitOptions, FitResult, Metrics, Trainer } from './fitTypes.js';

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

export const FIT_KEYS = optionKeys<FitOptions>()(['steps', 'signal', 'onStep', 'onProgress', 'onMetrics', 'every', 'onCheckpoint']);
const EVERY_KEYS = optionKeys<NonNullable<FitOptions['every']>>()(['log', 'validate', 'checkpoint']);

export async function fit(trainer: Trainer, opts: FitOptions): Promise<FitResult> {
  checkOptions('fit', opts, FIT_KEYS);
  checkOptions('fit', opts.every, EVERY_KEYS, 'every');
  const { steps, signal, onStep, onProgress, onMetrics, every = {}, onCheckpoint } = opts;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`fit: steps must be a non-negative integer, got ${steps}`);
  for (const [k, v] of Object.entries(every)) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new RangeError(`fit: every.${k} must be a positive integer; got ${v}`);
  }
  if (every.checkpoint && !onCheckpoint) throw new Error('fit: every.checkpoint needs onCheckpoint');
  if (every.validate && !trainer.hasValidation) throw new Error('fit: every.validate needs options.validation in createTrainer');
  if (signal !== undefined && typeof signal.aborted !== 'boolean') throw new TypeError('fit: signal must be an AbortSignal');
  if (onStep !== undefined && typeof onStep !== 'function') throw new TypeError('fit: onStep must be a function');
  const logEvery = every.log ?? 1;
  const losses: number[] = [];
  const validation: { step: number; loss: number }[] = [];
  let window: number[] = [];
  let windowNorm: number[] = [];
  const start = performance.now();
  let t0 = start;
  for (let i = 0; i < steps; i++) {
    // A step is synchronous compute: yield so that an abort from an event is seen between steps.
    if (signal) await tf.nextFrame();
    if (signal?.aborted) return { losses, validation, stopped: true };
    const s0 = performance.now();
    const r = await trainer.trainStep();
    const stepSeconds = (performance.now() - s0) / 1000;
    losses.push(r.loss);
    if (!r.skipped) {
      window.push(r.loss);
      windowNorm.push(r.gradNorm);
    }
    onProgress?.({ step: r.step, done: i + 1, total: steps, loss: r.loss });
    const m: Metrics = { step: r.step };
    let emit = false;
    if (r.step % logEvery === 0 && window.length > 0) {
      const secs = (performance.now() - t0) / 1000;
      Object.assign(m, { loss: mean(window), gradNorm: mean(windowNorm), learningRate: r.learningRate, skippedTotal: trainer.guard.skipped, stepsPerSecond: window.length / secs });
      window = [];
      windowNorm = [];
      t0 = performance.now();
      emit = true;
    }
    if (every.validate && r.step % every.validate === 0) {
      m.valLoss = (await trainer.evaluate()).loss;
      if (trainer.ema) m.valLossEma = (await trainer.evaluate({ useEma: true })).loss;
      validation.push({ step: r.step, loss: m.valLoss });
      emit = true;
    }
    if (emit) onMetrics?.(m);
    if (every.checkpoint && r.step % every.checkpoint === 0 && !r.skipped) await onCheckpoint!(trainer);
    if (onStep) {
      const rate = (i + 1) / ((performance.now() - start) / 1000);
      await onStep({ ...r, trainer, done: i + 1, total: steps, stepsPerSecond: rate, stepSeconds, etaSeconds: (steps - i - 1) / rate, last: i + 1 === steps, metrics: emit ? m : undefined });
    }
  }
  return { losses, validation, stopped: false };
}
