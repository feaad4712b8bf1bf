import * as tf from '@tensorflow/tfjs';
import { groupNormOp } from './groupNormKernel.js';
import { matchesAny, type NamedParameter, type NamePattern } from '@tfjs-diffusion/regularizers';

export type Init = 'lecun' | 'zeros' | 'ones' | { normal: number };

// A 32-bit mix (splitmix-style) so every parameter gets its own seed from the model seed.
function mix(seed: number, i: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** How a conv layer reads its input (a hook's own convolution reads it the same way). */
export interface ConvGeometry {
  stride: 1 | 2;
  pad: 'same' | number;
}

/**
 * A term added to the output of the dense or conv layer named `layer` (LoRA adapters), or null;
 * the base weights are read as they are.
 */
export type LayerHook = (layer: string, x: tf.Tensor, conv?: ConvGeometry) => tf.Tensor | null;

/** Named variables created in a fixed order from one seed (same seed, same weights). */
export class ParamStore {
  private readonly map = new Map<string, tf.Variable>();
  private count = 0;
  /** Read by `dense` and `conv` (set through `ParamModule.setLayerHook`). */
  hook: LayerHook | null = null;
  constructor(private readonly seed: number) {}

  create(name: string, shape: number[], init: Init = 'lecun'): tf.Variable {
    if (this.map.has(name)) throw new Error(`parameter '${name}' defined twice`);
    const s = mix(this.seed, this.count++);
    const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * shape[2]! : shape[0]!;
    const value = tf.tidy(() =>
      init === 'zeros' ? tf.zeros(shape)
      : init === 'ones' ? tf.ones(shape)
      : tf.randomNormal(shape, 0, init === 'lecun' ? Math.sqrt(1 / fanIn) : init.normal, 'float32', s),
    );
    const v = tf.variable(value, true);
    value.dispose();
    this.map.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.map.get(name);
    if (!v) throw new Error(`no parameter '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  list(): NamedParameter[] {
    return [...this.map].map(([name, variable]) => ({ name, variable }));
  }

  dispose(): void {
    for (const v of this.map.values()) v.dispose();
    this.map.clear();
  }
}

export const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x)) as T;

/** x · `${n}.kernel` [+ `${n}.bias`, when the layer has one: attention's q, k, v have none]. */
export function dense(p: ParamStore, n: string, x: tf.Tensor2D): tf.Tensor2D {
  const xw: tf.Tensor2D = tf.matMul(x, p.get(`${n}.kernel`) as tf.Tensor2D);
  const y = p.has(`${n}.bias`) ? (tf.add(xw, p.get(`${n}.bias`)) as tf.Tensor2D) : xw;
  const d = p.hook?.(n, x);
  return d ? tf.add(y, d) : y;
}

/** `pad`: 'same' (TensorFlow's: for stride 2 on even sizes, one row/column at the bottom/right) or n zeros on every side. */
export function conv(p: ParamStore, n: string, x: tf.Tensor4D, stride: 1 | 2 = 1, pad: 'same' | number = 'same'): tf.Tensor4D {
  const k = p.get(`${n}.kernel`) as tf.Tensor4D;
  const y = pad === 'same' ? tf.conv2d(x, k, stride, 'same') : tf.conv2d(x, k, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  const out = tf.add(y, p.get(`${n}.bias`)) as tf.Tensor4D;
  const d = p.hook?.(n, x, { stride, pad });
  return d ? tf.add(out, d) : out;
}

/** GroupNorm with the `${n}.gamma`/`${n}.beta` affine map, then SiLU when `silu` (one fused kernel where the backend has it). */
export function groupNorm(p: ParamStore, n: string, x: tf.Tensor4D, groups: number, eps: number, { silu = false } = {}): tf.Tensor4D {
  return groupNormOp(x, p.get(`${n}.gamma`), p.get(`${n}.beta`), { groups, epsilon: eps, silu });
}

/**
 * Sinusoidal features [B, dim] of t·exp(−ln(10000)·i/(dim/2 − freqShift)): sin
 * then cos as DDPM, or cos then sin with `flipSinToCos` (diffusers' `get_timestep_embedding`).
 */
export function timestepFeatures(t: tf.Tensor1D, dim: number, { flipSinToCos = false, freqShift = 0 } = {}): tf.Tensor2D {
  const half = dim / 2;
  const freqs = tf.exp(tf.mul(tf.range(0, half, 1, 'float32'), -Math.log(10000) / (half - freqShift)));
  const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.reshape(freqs, [1, -1]));
  return tf.concat(flipSinToCos ? [tf.cos(args), tf.sin(args)] : [tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
}

/** An embedding lookup as a one-hot product: its gradient is a matmul, which every backend has. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return tf.matMul(tf.cast(tf.oneHot(tf.cast(ids, 'int32'), table.shape[0]), 'float32') as tf.Tensor2D, table);
}

/** What UNet and MLPDenoiser share: named parameters held in a ParamStore. */
export abstract class ParamModule {
  protected abstract readonly p: ParamStore;

  parameters(): NamedParameter[] {
    return this.p.list();
  }

  /** Parameters whose name matches a glob (`up.*`) or RegExp, e.g. to freeze or fine-tune them. */
  selectParameters(pattern: NamePattern): NamedParameter[] {
    return this.parameters().filter((q) => matchesAny(q.name, [pattern]));
  }

  /** Installs (or, with null, removes) the hook every dense and conv layer of this model calls. */
  setLayerHook(hook: LayerHook | null): void {
    this.p.hook = hook;
  }

  numParameters(): number {
    return this.parameters().reduce((s, q) => s + q.variable.size, 0);
  }

  dispose(): void {
    this.p.dispose();
  }
}
