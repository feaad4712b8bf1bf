// createTrainer: assembles the pieces (options, freezing, optimization,
// batch preparation, the step, validation, fit, checkpoint state).
import * as tf from '@tensorflow/tfjs';
import type { AdamW, Ema, NamedParameter, NonFiniteGuard } from '@tfjs-diffusion/regularizers';
import { checkSeed, createRng, type NoiseSchedule, type Prediction, type Rng } from '@tfjs-diffusion/schedules';
import { createBatchPreparer, type PrepareBatch } from './batch.js';
import { assertFiniteCheckpoint, CHECKPOINT_VERSION, firstNonFinite, type Checkpoint, type TensorMap } from './checkpoint.js';
import { fit } from './fit.js';
import type { FitOptions, FitResult, Trainer } from './fitTypes.js';
import { loadFineTuneWeights, partitionParameters } from './freeze.js';
import { learningRateAt } from './lrSchedule.js';
import { createOptimization } from './optimization.js';
import { resolveOptions, type ResolvedOptions, type TrainerOptions } from './options.js';
import type { ParallelRunner } from './replica.js';
import { applyGradients, batchGradients, type StepContext, type TrainStepResult } from './step.js';
import type { TrainableDenoiser } from './types.js';
import { createValidation, type EvaluateResult, type Validation } from './validation.js';


const copy = (p: NamedParameter) => ({ shape: p.variable.shape.slice(), data: Float32Array.from(p.variable.dataSync() as Float32Array) });

function checkShapes(where: string, role: string, tensors: TensorMap, params: readonly NamedParameter[], exact: boolean): void {
  const names = new Set(params.map((p) => p.name));
  for (const p of params) {
    const t = tensors[p.name];
    if (!t) throw new Error(`checkpoint ${where}: ${role} for parameter '${p.name}' is missing${role === 'weights' ? '' : ' (was it frozen when saved?)'}`);
    const shape = p.variable.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`checkpoint ${where}: ${role} of '${p.name}' has shape [${t.shape}] in the checkpoint, [${shape}] in the model`);
    }
    if (t.data.length !== p.variable.size) throw new Error(`checkpoint ${where}: ${role} of '${p.name}' has ${t.data.length} values for shape [${shape}] (corrupt file?)`);
  }
  if (exact) {
    for (const name of Object.keys(tensors)) {
      if (!names.has(name)) throw new Error(`checkpoint ${where}: has ${role} for '${name}', which the model does not have`);
    }
  }
}

/**
 * For trainers of another objective over the same step (progressive distillation):
 * `prepare` replaces the batch preparation and draws from the trainer's Rng, so
 * checkpoints still resume the same draws.
 */
export interface TrainerObjective {
  prepare(schedule: NoiseSchedule, o: ResolvedOptions, rng: Rng): PrepareBatch;
}

/** Builds a trainer. Async because parallel training starts workers. */
export async function createTrainer(options: TrainerOptions, objective?: TrainerObjective): Promise<Trainer> {
  const o = resolveOptions(options);
  const { denoiser, schedule, data } = options;
  const { prediction } = o;
  const rng = createRng(checkSeed('createTrainer: seed', o.seed));
  const all = denoiser.parameters();
  const { trainable, frozen } = partitionParameters(all, o.freeze);
  if (options.fineTune) loadFineTuneWeights(all, options.fineTune.weights, options.fineTune.include);

  const opt = createOptimization(trainable, o, options.optimizer);
  let validation: Validation | undefined;
  let parallel: ParallelRunner | undefined;
  try {
    validation = options.validation ? createValidation(options.validation, schedule) : undefined;
    parallel = options.parallel ? await options.parallel({ denoiser, prediction, freeze: o.freeze }) : undefined;
  } catch (e) {
    opt.dispose();
    validation?.dispose();
    throw e;
  }
  const ctx: StepContext = {
    denoiser,
    prediction,
    trainable,
    microBatch: o.microBatch,
    prepare: (objective?.prepare ?? createBatchPreparer)(schedule, o, rng),
    opt,
    clipGradNorm: o.reg.clipGradNorm,
    parallel,
  };
  let step = 0;

  const trainer: Trainer = {
    get step() {
      return step;
    },
    denoiser,
    optimizer: opt.optimizer,
    ema: opt.ema,
    guard: opt.guard,
    prediction,
    hasValidation: validation !== undefined,
    trainable: () => trainable.slice(),
    frozen: () => frozen.slice(),
    learningRate: (s = step) => learningRateAt(s, o.learningRate),

    async trainStep() {
      const lr = learningRateAt(step, o.learningRate);
      const batch = await data.next();
      const { loss, grads, norm } = await batchGradients(ctx, batch, step);
      step += 1;
      return applyGradients(ctx, loss, grads, step, lr, norm);
    },

    async evaluate({ useEma = false } = {}) {
      if (!validation) throw new Error('evaluate: no validation set was given to createTrainer (options.validation)');
      if (useEma && !opt.ema) throw new Error('evaluate: useEma needs regularizers.ema');
      const v = validation;
      const p = parallel && parallel.threads > 1 ? parallel : undefined;
      const run = async () => {
        if (!p) return v.evaluate(denoiser, prediction);
        return v.evaluateParallel(denoiser, prediction, { threads: p.threads, run: (items) => p.validate(() => v.data(), items) });
      };
      // The workers already hold the raw weights (every applied step and restore syncs them).
      if (!useEma) return run();
      try {
        // While the EMA is swapped in, the workers evaluate with it too.
        return await opt.ema!.withAveraged(async () => {
          if (p) await p.syncWeights();
          return run();
        });
      } finally {
        if (p) await p.syncWeights();
      }
    },

    fit: (fitOpts) => fit(trainer, fitOpts),

    checkpoint(): Checkpoint {
      if (opt.guard.consecutive > 0) {
        throw new Error(`checkpoint at step ${step}: the last ${opt.guard.consecutive} step(s) had a non-finite loss or gradient; a non-finite state is never saved`);
      }
      const adam = opt.optimizer.state();
      const emaState = opt.ema?.state();
      const ck: Checkpoint = {
        state: {
          version: CHECKPOINT_VERSION,
          step,
          optimizerStep: adam.step,
          rng: rng.getState(),
          data: data.getState ? data.getState() : null,
          guard: opt.guard.state(),
          ema: emaState ? { step: emaState.step, decay: emaState.decay } : null,
          config: {
            prediction,
            numTrainTimesteps: o.numTrainTimesteps,
            seed: o.seed,
            learningRate: o.learningRate,
            trainable: trainable.map((p) => p.name),
            model: (denoiser.config as Record<string, unknown> | undefined) ?? null,
          },
        },
        model: Object.fromEntries(all.map((p) => [p.name, copy(p)])),
        ema: emaState ? emaState.shadow : null,
        adam: { m: adam.m, v: adam.v },
      };
      assertFiniteCheckpoint(ck);
      return ck;
    },

    async restore(ck: Checkpoint, where = `at step ${ck.state.step}`) {
      const st = ck.state;
      if (st.config.prediction !== prediction) {
        throw new Error(`checkpoint ${where}: prediction is '${st.config.prediction}', this trainer's is '${prediction}'`);
      }
      if (st.config.numTrainTimesteps !== o.numTrainTimesteps) {
        throw new Error(`checkpoint ${where}: numTrainTimesteps is ${st.config.numTrainTimesteps}, this schedule has ${o.numTrainTimesteps}`);
      }
      checkShapes(where, 'weights', ck.model, all, true);
      checkShapes(where, 'Adam moments', ck.adam.m, trainable, false);
      checkShapes(where, 'Adam moments', ck.adam.v, trainable, false);
      if (opt.ema && !ck.ema) throw new Error(`checkpoint ${where}: has no EMA weights, but this trainer uses an EMA`);
      if (opt.ema) checkShapes(where, 'EMA weights', ck.ema!, trainable, false);
      const bad = firstNonFinite(ck);
      if (bad) throw new Error(`checkpoint ${where}: ${bad} holds NaN or Inf; continue from an earlier checkpoint`);
      if (st.data !== null && st.data !== undefined && !data.setState) {
        throw new Error(`checkpoint ${where}: holds a data-iterator position, but options.data has no setState`);
      }
      const pick = (map: TensorMap) => Object.fromEntries(trainable.map((p) => [p.name, map[p.name]!]));
      // Checked: now load.
      for (const p of all) {
        const t = ck.model[p.name]!;
        tf.tidy(() => p.variable.assign(tf.tensor(t.data, t.shape, 'float32')));
      }
      opt.optimizer.loadState({ step: st.optimizerStep, m: pick(ck.adam.m), v: pick(ck.adam.v) });
      if (opt.ema) opt.ema.loadState({ step: st.ema!.step, decay: st.ema!.decay, shadow: pick(ck.ema!) });
      rng.setState(st.rng);
      opt.guard.loadState(st.guard);
      if (st.data !== null && st.data !== undefined) data.setState!(st.data);
      step = st.step;
      if (parallel) await parallel.syncWeights();
    },

    async dispose() {
      opt.dispose();
      validation?.dispose();
      if (parallel) await parallel.dispose();
    },
  };
  return trainer;
}
