import type * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';

/** A model copy that computes the mean loss and its gradients on a shard of a batch. */
export interface Replica<B> {
  parameters(): NamedParameter[];
  lossAndGrads(batch: B): { loss: number; grads: Record<string, tf.Tensor> } | Promise<{ loss: number; grads: Record<string, tf.Tensor> }>;
}

export interface DataParallel<B> {
  /** Replicas in all, the caller's included (1 under tfjs-node: TensorFlow's pool does the work). */
  readonly threads: number;
  /** What was requested and what runs, e.g. "threads: 2 requested; using TensorFlow's thread pool, no worker threads". */
  readonly plan: string;
  /**
   * shards[0] runs on `local` in this thread, shards[i] on worker i, at the
   * same time. Returns the `weights`-weighted mean loss and gradients (as
   * tensors on this thread's backend; the caller disposes them) and, when
   * averaged here (threads > 1), the gradients' global L2 norm; with
   * `clipNorm` the gradients come scaled by min(1, clipNorm / (norm + 1e-6)),
   * as `clipByGlobalNorm` of the regularizers package does.
   * Gradients are returned for the parameters `local` returns them for
   * (its trainable ones); every replica is taken to train the same ones.
   */
  lossAndGrads(
    local: Replica<B>,
    shards: B[],
    weights: number[],
    opts?: { clipNorm?: number },
  ): Promise<{ loss: number; grads: Record<string, tf.Tensor>; norm?: number }>;
  /**
   * Copies `local`'s weights to every worker (after the caller's optimizer update). Resolves once
   * they are posted: every later request reaches the workers after them; a failure rejects that request.
   */
  syncWeights(local: Pick<Replica<B>, 'parameters'>): Promise<void>;
  /**
   * Calls `method` of worker i's replica with `args[i]` (one per worker: threads − 1 of them, possibly
   * fewer), at the same time; resolves with their (structured-cloned) results in order. For work other
   * than a training step that the replica module exports, e.g. sampling a shard of a batch.
   */
  callWorkers<R>(method: string, args: unknown[]): Promise<R[]>;
  dispose(): Promise<void>;
}

export interface DataParallelOptions<I> {
  /** The replica module (absolute path or file URL); it exports `createReplica(init: I): Promise<Replica<B>> | Replica<B>`. */
  module: string;
  /** Structured-cloneable; every worker builds its replica from it. */
  init: I;
  /** Threads requested, this thread's included. Default: the number of cores. 1: no workers; under 'tensorflow' never any (see planThreads). */
  threads?: number;
  /** Backend of the workers, as initBackend's `prefer` or tfjs' name. Default: this thread's (`tf.getBackend()`). */
  backend?: 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu' | 'tensorflow';
}

// Messages between the caller and its workers.
export type ToWorker =
  | { type: 'buffers'; grads: SharedArrayBuffer; weights: SharedArrayBuffer }
  | { type: 'step'; id: number; batch: unknown }
  | { type: 'sync'; id: number }
  | { type: 'call'; id: number; method: string; arg: unknown };

export type FromWorker =
  | { type: 'ready'; params: { name: string; shape: number[] }[] }
  | { type: 'done'; id: number; loss: number }
  | { type: 'synced'; id: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id?: number; message: string };
