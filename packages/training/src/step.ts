// One training step: gradients of a batch (whole, micro-batched or on worker
// threads), clipping, the non-finite guard, the AdamW update and the EMA.
import * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm, globalNorm, type NamedParameter } from '@tfjs-diffusion/regularizers';
import { disposeConditioning } from '@tfjs-diffusion/samplers';
import { microBatchLossAndGrads, toPlain, type PrepareBatch } from './batch.js';
import { disposePrepared, lossAndGrads, slicePlain, type PreparedBatch } from './loss.js';
import type { Optimization } from './optimization.js';
import type { ParallelRunner } from './replica.js';
import type { Prediction } from '@tfjs-diffusion/schedules';
import type { Batch, TrainableDenoiser } from './types.js';

export interface TrainStepResult {
  step: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
  /** True when the loss or gradient norm was not finite and no update was applied. */
  skipped: boolean;
}

export interface StepContext {
  denoiser: TrainableDenoiser;
  prediction: Prediction;
  trainable: readonly NamedParameter[];
  microBatch: number;
  prepare: PrepareBatch;
  opt: Optimization;
  clipGradNorm?: number;
  parallel?: ParallelRunner;
}

/** `norm`, when present, is the gradients' global norm and they are already clipped to `ctx.clipGradNorm`. */
export interface BatchGradients {
  loss: number;
  grads: Record<string, tf.Tensor>;
  norm?: number;
}

/** Loss and gradients of one batch (disposes the batch's tensors, also on error). */
export async function batchGradients(ctx: StepContext, batch: Batch, step: number): Promise<BatchGradients> {
  let prepared: PreparedBatch | undefined;
  try {
    prepared = ctx.prepare(batch, step);
    if (ctx.parallel) {
      const plain = toPlain(prepared);
      return await ctx.parallel.lossAndGrads(plain, ([a, b]) => slicePlain(plain, a, b), { clipNorm: ctx.clipGradNorm });
    }
    if (prepared.x0.shape[0] > ctx.microBatch) {
      return microBatchLossAndGrads(ctx.denoiser, ctx.prediction, ctx.trainable, toPlain(prepared), ctx.microBatch);
    }
    const r = lossAndGrads(ctx.denoiser, ctx.prediction, ctx.trainable, prepared);
    const loss = r.loss.dataSync()[0]!;
    r.loss.dispose();
    return { loss, grads: r.grads };
  } finally {
    if (prepared) disposePrepared(prepared);
    tf.dispose([batch.images, ...(batch.labels instanceof tf.Tensor ? [batch.labels] : [])]);
    disposeConditioning(batch.cond);
  }
}

/**
 * Clips, checks and applies gradients as update number `step` (1-based);
 * disposes `grads`. A non-finite loss or norm skips the update; the guard
 * throws NonFiniteError after too many in a row. With `norm` (from
 * `batchGradients`) the gradients are already clipped.
 */
export async function applyGradients(ctx: StepContext, loss: number, grads: Record<string, tf.Tensor>, step: number, lr: number, norm?: number): Promise<TrainStepResult> {
  let toApply = grads;
  let gradNorm: number;
  try {
    if (norm !== undefined) {
      gradNorm = ctx.clipGradNorm || Number.isFinite(loss) ? norm : NaN;
    } else if (ctx.clipGradNorm) {
      const c = clipByGlobalNorm(grads, ctx.clipGradNorm);
      tf.dispose(Object.values(grads));
      toApply = c.grads;
      gradNorm = c.norm;
    } else {
      gradNorm = Number.isFinite(loss) ? globalNorm(grads) : NaN;
    }
    const ok = ctx.opt.guard.check({ loss, gradNorm }, step);
    if (ok) {
      ctx.opt.optimizer.apply(toApply, lr);
      ctx.opt.ema?.update(ctx.opt.optimizer.step);
      if (ctx.parallel) await ctx.parallel.syncWeights();
    }
    return { step, loss, gradNorm, learningRate: lr, skipped: !ok };
  } finally {
    tf.dispose(Object.values(toApply));
  }
}
