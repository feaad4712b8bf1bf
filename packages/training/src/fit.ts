// The training loop over a trainer: logging windows, validation and checkpoint hooks.
import type { Trainer } from './trainer.js';

export interface Metrics {
  step: number;
  loss?: number;
  gradNorm?: number;
  learningRate?: number;
  skippedTotal?: number;
  valLoss?: number;
  valLossEma?: number;
  stepsPerSecond?: number;
}

export interface FitOptions {
  steps: number;
  onProgress?: (p: { step: number; done: number; total: number; loss: number }) => void;
  onMetrics?: (m: Metrics) => void;
  every?: { log?: number; validate?: number; checkpoint?: number };
  /**
   * Called every `every.checkpoint` steps, e.g. `(t) => saveCheckpoint(t, dir)` from
   * `@tfjs-diffusion/training/node`. Not called after a skipped (non-finite) step.
   */
  onCheckpoint?: (trainer: Trainer) => unknown;
}

export interface FitResult {
  losses: number[];
  validation: { step: number; loss: number }[];
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

export async function fit(trainer: Trainer, opts: FitOptions): Promise<FitResult> {
  const { steps, onProgress, onMetrics, every = {}, onCheckpoint } = opts;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`fit: steps must be a non-negative integer, got ${steps}`);
  for (const [k, v] of Object.entries(every)) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new RangeError(`fit: every.${k} must be a positive integer; got ${v}`);
  }
  if (every.checkpoint && !onCheckpoint) throw new Error('fit: every.checkpoint needs onCheckpoint');
  if (every.validate && !trainer.hasValidation) throw new Error('fit: every.validate needs options.validation in createTrainer');
  const logEvery = every.log ?? 1;
  const losses: number[] = [];
  const validation: { step: number; loss: number }[] = [];
  let window: number[] = [];
  let windowNorm: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const r = await trainer.trainStep();
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
  }
  return { losses, validation };
}
