import type * as tf from '@tensorflow/tfjs';

export interface NamedParameter {
  name: string;
  variable: tf.Variable;
}

/** A model copy that computes the mean loss and its gradients on a shard of a batch. */
export interface Replica<B> {
  parameters(): NamedParameter[];
  lossAndGrads(batch: B): { loss: number; grads: Record<string, tf.Tensor> } | Promise<{ loss: number; grads: Record<string, tf.Tensor> }>;
}

export interface DataParallel<B> {
  /** Replicas in all, the caller's included. */
  readonly threads: number;
  /**
   * shards[0] runs on `local` in this thread, shards[i] on worker i, at the
   * same time. Returns the `weights`-weighted mean loss and gradients (as
   * tensors on this thread's backend; the caller disposes them).
   */
  lossAndGrads(local: Replica<B>, shards: B[], weights: number[]): Promise<{ loss: number; grads: Record<string, tf.Tensor> }>;
  /** Copies `local`'s weights to every worker (after the caller's optimizer update). */
  syncWeights(local: Replica<B>): Promise<void>;
  dispose(): Promise<void>;
}

export interface DataParallelOptions<I> {
  /** The replica module (absolute path or file URL); it exports `createReplica(init: I): Promise<Replica<B>> | Replica<B>`. */
  module: string;
  /** Structured-cloneable; every worker builds its replica from it. */
  init: I;
  /** Replicas in all, this thread's included. Default: the number of cores. 1: no workers. */
  threads?: number;
  /** Backend of the workers. Default: this thread's. */
  backend?: 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu';
}

// Messages between the caller and its workers.
export type ToWorker =
  | { type: 'buffers'; grads: SharedArrayBuffer; weights: SharedArrayBuffer }
  | { type: 'step'; id: number; batch: unknown }
  | { type: 'sync'; id: number };

export type FromWorker =
  | { type: 'ready'; params: { name: string; shape: number[] }[] }
  | { type: 'done'; id: number; loss: number }
  | { type: 'synced'; id: number }
  | { type: 'error'; id?: number; message: string };
