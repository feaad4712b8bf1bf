// The browser-safe half of data parallelism: what a replica computes, how a
// batch is sharded, and the interface the trainer drives. The worker threads
// themselves are in `@tfjs-diffusion/training/node` (`workerThreads`).
// Each worker imports this file and calls `createReplica`.
import type * as tf from '@tensorflow/tfjs';
import { createModel } from '@tfjs-diffusion/models';
import { matchesAny, type NamedParameter, type NamePattern } from '@tfjs-diffusion/regularizers';
import { disposePrepared, lossAndGrads, plainToPrepared, type PlainBatch } from './loss.js';
import { validationEvaluator, type ValidationData, type ValidationItem } from './validation.js';
import type { Prediction } from '@tfjs-diffusion/schedules';
import type { TrainableDenoiser } from './types.js';

/** What a replica needs to rebuild the model in a worker (structured-cloneable). */
export interface ReplicaInit {
  /** The model's config as the models package's `createModel` takes it (`kind` picks the class). */
  model: { kind: string } & Record<string, unknown>;
  prediction: Prediction;
  freeze?: string[];
}

/** Runs a step's loss and gradients somewhere else (worker threads) and keeps the replicas' weights equal to ours. */
export interface ParallelRunner {
  threads: number;
  /**
   * The batch's loss and mean gradients; `norm`, when given, is their global L2 norm, and with
   * `clipNorm` the gradients are already clipped to it (as `clipByGlobalNorm` does).
   */
  lossAndGrads(
    batch: PlainBatch,
    slice: (range: [number, number]) => PlainBatch,
    opts?: { clipNorm?: number },
  ): Promise<{ loss: number; grads: Record<string, tf.Tensor>; norm?: number }>;
  syncWeights(): Promise<void>;
  /**
   * Validation items on the workers (list i on worker i, with the weights last synced); `data` is
   * called once, the first time, to hand the workers the set.
   */
  validate(data: () => ValidationData, items: ValidationItem[][]): Promise<number[][]>;
  dispose(): Promise<void>;
}

/** Starts a ParallelRunner for a trainer's model; `TrainerOptions.parallel`. */
export type StartParallel = (ctx: { denoiser: TrainableDenoiser; prediction: Prediction; freeze: readonly NamePattern[] }) => Promise<ParallelRunner | undefined>;

/** A replica over an existing denoiser: the same loss the trainer computes. */
export function replicaOf(denoiser: TrainableDenoiser, prediction: Prediction, freeze: readonly NamePattern[] = []) {
  const all = denoiser.parameters();
  const trainable = all.filter((p) => p.variable.trainable && !matchesAny(p.name, freeze));
  let validation: ReturnType<typeof validationEvaluator> | undefined;
  return {
    // Every parameter, frozen ones included, so syncing weights reaches them too; gradients are for the trainable ones.
    parameters: (): NamedParameter[] => all,
    trainable: (): NamedParameter[] => trainable,
    lossAndGrads(batch: PlainBatch): { loss: number; grads: Record<string, tf.Tensor> } {
      const prepared = plainToPrepared(batch);
      try {
        const r = lossAndGrads(denoiser, prediction, trainable, prepared);
        const loss = r.loss.dataSync()[0]!;
        r.loss.dispose();
        return { loss, grads: r.grads };
      } finally {
        disposePrepared(prepared);
      }
    },
    /** Keeps a validation set (from `Validation.data()`) for `validationSums`. */
    setValidation(data: ValidationData): void {
      validation?.dispose();
      validation = validationEvaluator(data);
    },
    /** Each item's sum of per-sample validation losses, with this replica's weights. */
    validationSums(items: ValidationItem[]): number[] {
      if (!validation) throw new Error('validationSums: no validation set (setValidation first)');
      return validation.sums(denoiser, prediction, items);
    },
  };
}

/** Shard sizes as even as possible, larger first. */
export function shardRanges(n: number, shards: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < shards; i++) {
    const size = Math.floor(n / shards) + (i < n % shards ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out.filter(([a, b]) => b > a);
}

/** How workers rebuild `denoiser`: its config (with `kind`), prediction and freeze globs. */
export function replicaInit(denoiser: TrainableDenoiser, prediction: Prediction, freeze: readonly NamePattern[]): ReplicaInit {
  const config = denoiser.config as ({ kind?: unknown } & Record<string, unknown>) | undefined;
  if (!config || typeof config.kind !== 'string') {
    throw new Error("parallel: the denoiser has no config with a 'kind' to rebuild it in workers (a models package UNet or MLPDenoiser has one); pass init");
  }
  if (config.lora !== undefined) throw new Error('parallel: LoRA adapters train on one thread (workers rebuild the model from its config and would not hold the base weights); drop parallel');
  if (freeze.some((p) => typeof p !== 'string')) throw new Error('parallel: freeze patterns must be strings (globs) to reach the workers');
  return { model: { ...config, kind: config.kind }, prediction, freeze: freeze as string[] };
}

/** The replica module's entry: rebuilds the model by `createModel(config)` and computes the trainer's loss. */
export async function createReplica(init: ReplicaInit) {
  const denoiser = createModel(init.model);
  if (denoiser.prediction !== init.prediction) {
    throw new Error(`createReplica: the rebuilt model predicts '${denoiser.prediction}', the trainer '${init.prediction}'`);
  }
  return replicaOf(denoiser, init.prediction, init.freeze ?? []);
}
