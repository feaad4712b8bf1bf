import type * as tf from '@tensorflow/tfjs';
import { matchesAny, type NamedParameter, type NamePattern } from '@tfjs-diffusion/regularizers';
import { lossAndGrads, plainToPrepared, disposePrepared, type PlainBatch } from './loss.js';
import type { Prediction } from '@tfjs-diffusion/schedules';
import type { TrainableDenoiser } from './types.js';

/** What a replica needs to rebuild the model in a worker (structured-cloneable). */
export interface ReplicaInit {
  /** 'unet' or 'mlp' and the model's config (the models package's UNetConfig / MLP config). */
  model: { kind: 'unet' | 'mlp'; config: Record<string, unknown> };
  prediction: Prediction;
  freeze?: string[];
}

export interface ParallelOptions {
  threads: number;
  /** How workers rebuild the model; defaults to the denoiser's kind and config when it has them. */
  init?: ReplicaInit;
  /** The replica module; defaults to this package's replica.ts / replica.js. */
  module?: string;
}

export interface ParallelRunner {
  threads: number;
  lossAndGrads(batch: PlainBatch, slice: (range: [number, number]) => PlainBatch): Promise<{ loss: number; grads: Record<string, tf.Tensor> }>;
  syncWeights(): Promise<void>;
  dispose(): Promise<void>;
}

/** A replica over an existing denoiser: the same loss the trainer computes. */
export function replicaOf(denoiser: TrainableDenoiser, prediction: Prediction, freeze: readonly NamePattern[] = []) {
  const all = denoiser.parameters();
  const trainable = all.filter((p) => p.variable.trainable && !matchesAny(p.name, freeze));
  return {
    // Every parameter, frozen ones included, so syncing weights reaches them too; gradients are for the trainable ones.
    parameters: (): NamedParameter[] => all,
    trainable: (): NamedParameter[] => trainable,
    lossAndGrads(batch: PlainBatch): { loss: number; grads: Record<string, tf.Tensor> } {
      const prepared = plainToPrepared(batch);
      try {
        const r = lossAndGrads(denoiser, prediction, trainable, prepared);
        const loss = r.loss.dataSync()[0];
        r.loss.dispose();
        return { loss, grads: r.grads };
      } finally {
        disposePrepared(prepared);
      }
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

export async function startParallel(
  opts: ParallelOptions,
  denoiser: TrainableDenoiser,
  prediction: Prediction,
  freeze: readonly NamePattern[],
): Promise<ParallelRunner> {
  const backend: Record<string, unknown> = await import('@tfjs-diffusion/backend/node');
  const createDataParallel = backend.createDataParallel as
    | ((o: { module: string; init: unknown; threads?: number }) => Promise<any>)
    | undefined;
  if (typeof createDataParallel !== 'function') {
    throw new Error('parallel training is not available: @tfjs-diffusion/backend/node does not export createDataParallel; omit options.parallel');
  }
  const init = opts.init ?? inferInit(denoiser, prediction, freeze);
  const module = opts.module ?? new URL(import.meta.url.endsWith('.ts') ? './replica.ts' : './replica.js', import.meta.url).href;
  const dp = await createDataParallel({ module, init, threads: opts.threads });
  const local = replicaOf(denoiser, prediction, freeze);
  // Workers build their models from the config with their own initial weights: start them from ours.
  try {
    await dp.syncWeights(local);
  } catch (e) {
    await dp.dispose();
    throw e;
  }
  return {
    threads: dp.threads,
    async lossAndGrads(batch, slice) {
      const ranges = shardRanges(batch.shape[0], dp.threads);
      const shards = ranges.map((r) => slice(r));
      const r: { loss: number; grads: Record<string, tf.Tensor> } = await dp.lossAndGrads(local, shards, ranges.map(([a, b]) => b - a));
      const keep = new Set(local.trainable().map((p) => p.name));
      for (const [name, g] of Object.entries(r.grads)) {
        if (!keep.has(name)) {
          g.dispose();
          delete r.grads[name];
        }
      }
      return r;
    },
    syncWeights: () => dp.syncWeights(local),
    dispose: () => dp.dispose(),
  };
}

function inferInit(denoiser: TrainableDenoiser, prediction: Prediction, freeze: readonly NamePattern[]): ReplicaInit {
  const config = denoiser.config;
  const kind = (denoiser as { constructor?: { name?: string } }).constructor?.name === 'MLPDenoiser' ? 'mlp' : 'unet';
  if (!config) throw new Error('parallel: the denoiser has no config to rebuild it in workers; pass parallel.init');
  if (freeze.some((p) => typeof p !== 'string')) throw new Error('parallel: freeze patterns must be strings (globs) to reach the workers');
  return { model: { kind, config: config as Record<string, unknown> }, prediction, freeze: freeze as string[] };
}
