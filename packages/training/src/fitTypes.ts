// The types of the training loop and of the trainer it drives, in one file so
// that fit.ts and trainer.ts (which offers fit as a method) need not import each other.
import type { AdamW, Ema, NamedParameter, NonFiniteGuard } from '@tfjs-diffusion/regularizers';
import type { Prediction } from '@tfjs-diffusion/schedules';
import type { Checkpoint } from './checkpoint.js';
import type { TrainStepResult } from './step.js';
import type { TrainableDenoiser } from './types.js';
import type { EvaluateResult } from './validation.js';

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

/** What `onStep` sees after each step. */
export interface StepEvent extends TrainStepResult {
  trainer: Trainer;
  /** Steps done in this `fit` call, of `total`. */
  done: number;
  total: number;
  /** Steps per second over this call so far (hooks' time included). */
  stepsPerSecond: number;
  /** Seconds the step itself took (without hooks and yields). */
  stepSeconds: number;
  /** Seconds to `total` at `stepsPerSecond`. */
  etaSeconds: number;
  /** True for the call's last step (`done === total`). */
  last: boolean;
  /** The metrics `fit` emitted at this step (`every.log`, `every.validate`), if any. */
  metrics?: Metrics;
}

export interface FitOptions {
  /** Steps in this call; the trainer's step counter continues from where it is. */
  steps: number;
  /**
   * Stops training at the next step boundary (the running step finishes;
   * `fit` resolves with `stopped: true`). With a signal, `fit` yields to the
   * event loop (`tf.nextFrame`) before each step, so an abort from a signal
   * handler or a button is seen while training runs.
   */
  signal?: AbortSignal;
  /**
   * Called after every step, after `fit`'s own metrics and checkpoint; awaited
   * before the next step. A hook that throws stops training with that error.
   */
  onStep?: (e: StepEvent) => unknown;
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
  /** True when `signal` stopped training before `steps`. */
  stopped: boolean;
}

export interface Trainer {
  readonly step: number;
  readonly denoiser: TrainableDenoiser;
  readonly optimizer: AdamW;
  readonly ema: Ema | undefined;
  readonly guard: NonFiniteGuard;
  readonly prediction: Prediction;
  /** True when `createTrainer` got `validation`. */
  readonly hasValidation: boolean;
  trainable(): NamedParameter[];
  frozen(): NamedParameter[];
  learningRate(step?: number): number;
  trainStep(): Promise<TrainStepResult>;
  /** Validation loss (over the worker threads too when the trainer has them; the same number as one thread). */
  evaluate(opts?: { useEma?: boolean }): Promise<EvaluateResult>;
  fit(opts: FitOptions): Promise<FitResult>;
  /**
   * The whole training state (weights, EMA, moments, step, Rng, data position, guard).
   * Throws when the last step was not finite or any tensor holds NaN/Inf: such a
   * state is never saved. Files: `saveCheckpoint` in `@tfjs-diffusion/training/node`.
   */
  checkpoint(): Checkpoint;
  /** Continues from `ck` after checking names, shapes, prediction and numTrainTimesteps (nothing is touched if a check fails). */
  restore(ck: Checkpoint, where?: string): Promise<void>;
  dispose(): Promise<void>;
}
