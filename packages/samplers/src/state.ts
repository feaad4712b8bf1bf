import * as tf from '@tensorflow/tfjs';

/**
 * Per-run memory of a sampler (for example the previous x0 of a multistep method).
 * Ownership: `setTensor` keeps a copy of what it is given, and the caller keeps what it passed
 * (inside a step's `tf.tidy` that is freed with the step; a tensor the caller kept itself, it
 * disposes itself). The copies survive the step's tidy; the loop disposes them at the end of the run.
 */
export class SamplerState {
  private readonly tensors = new Map<string, tf.Tensor>();
  private readonly values = new Map<string, unknown>();

  getTensor<T extends tf.Tensor>(key: string): T | undefined {
    return this.tensors.get(key) as T | undefined;
  }

  /**
   * Stores a copy of `tensor` (kept out of the enclosing tidy) and disposes what was stored under
   * `key` before. `tensor` stays the caller's: it may be returned, stored under another key or disposed.
   */
  setTensor(key: string, tensor: tf.Tensor): void {
    const old = this.tensors.get(key);
    if (old === tensor) return;
    old?.dispose();
    // A clone, so the caller may dispose what it passed (e.g. a returned x0).
    this.tensors.set(key, tf.keep(tf.clone(tensor)));
  }

  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
    this.values.clear();
  }
}
