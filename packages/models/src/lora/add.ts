// addLora and the views over a model's adapters (for sampling and for training them alone).
import * as tf from '@tensorflow/tfjs';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import type { Conditioning } from '@tfjs-diffusion/samplers';
import { checkOptions, optionKeys, type Prediction, showList, showValue } from '@tfjs-diffusion/schedules';
import type { PredictOptions } from '../inputs.js';
import type { ParamModule } from '../layers.js';
import { LoraAdapter, type LoraInfo, type LoraPair, loraSetOf } from './adapter.js';
import { DEFAULT_LORA_TARGETS, type LoraModule, loraModules, type LoraTarget, matchesTarget } from './modules.js';

/** A model the adapters go on: the models package's UNet and MLPDenoiser. */
export type LoraModel = ParamModule & {
  readonly prediction: Prediction;
  readonly config: object;
  readonly numClasses?: number | null;
  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning, opts?: PredictOptions): tf.Tensor4D;
};

export interface LoraOptions {
  /** r: the rank of B·A. */
  rank: number;
  /** lora_alpha: the update is scaled by alpha / rank (default rank: scale 1, as diffusers' training scripts). */
  alpha?: number;
  /** lora_dropout on each adapted layer's input, while training through `loraTrainable` (default 0). */
  dropout?: number;
  /** PEFT's target_modules (default the attention projections `to_q`, `to_k`, `to_v`, `to_out.0`). */
  targets?: LoraTarget | readonly LoraTarget[];
  /** Adapter name, unique per model (default 'default', as PEFT's). */
  name?: string;
  /** Its weight at sampling time (default 1). */
  weight?: number;
  /** Seed of A's initialization (default 0). */
  seed?: number;
}

const LORA_KEYS = optionKeys<LoraOptions>()(['rank', 'alpha', 'dropout', 'targets', 'name', 'weight', 'seed']);

/** One module's pair as given: values in our layout, or none (PEFT's init: A kaiming-uniform, B zeros). */
export interface PairSpec {
  module: LoraModule;
  rank: number;
  alpha: number;
  A?: tf.Tensor;
  B?: tf.Tensor;
}

export const checkRank = (where: string, r: unknown): number => {
  if (!Number.isInteger(r) || (r as number) < 1) throw new RangeError(`${where}: rank must be a positive integer; got ${showValue(r)}`);
  return r as number;
};

/** Attaches an adapter from its pairs (the values are copied; the caller disposes its tensors). @internal */
export function attachAdapter(model: LoraModel, name: string, specs: readonly PairSpec[], info: LoraInfo, weight: number, seed = 0): LoraAdapter {
  const set = loraSetOf(model, () => loraModules(model))!;
  if (set.adapters.some((a) => a.name === name)) {
    set.detachIfEmpty();
    throw new Error(`addLora: this model already has an adapter named '${name}'; pass another name (it has ${showList(set.adapters.map((a) => a.name))})`);
  }
  const pairs: LoraPair[] = [];
  try {
    specs.forEach(({ module: m, rank, alpha, A, B }, i) => {
      const k = m.kernelSize;
      const aShape = m.layerKind === 'dense' ? [m.inFeatures, rank] : [k, k, m.inFeatures, rank];
      const bShape = m.layerKind === 'dense' ? [rank, m.outFeatures] : [1, 1, rank, m.outFeatures];
      // PEFT: kaiming_uniform_(a=√5) on lora_A [r, in, k, k] is U(−1/√fan_in, 1/√fan_in); lora_B zeros.
      const bound = 1 / Math.sqrt(m.inFeatures * k * k);
      const a = tf.tidy(() => (A ? tf.reshape(A, aShape) : tf.randomUniform(aShape, -bound, bound, 'float32', (seed * 7919 + i) | 0)));
      const av = tf.variable(a, true);
      a.dispose();
      const b = tf.tidy(() => (B ? tf.reshape(B, bShape) : tf.zeros(bShape)));
      let bv: tf.Variable;
      try {
        bv = tf.variable(b, true);
      } catch (e) {
        av.dispose();
        throw e;
      } finally {
        b.dispose();
      }
      pairs.push({ module: m, rank, alpha, A: av, B: bv });
    });
  } catch (e) {
    for (const p of pairs) { p.A.dispose(); p.B.dispose(); }
    set.detachIfEmpty();
    throw e;
  }
  return set.add(new LoraAdapter(set, name, pairs, info, weight));
}

/**
 * Adds a LoRA adapter (PEFT's LoraConfig: r, lora_alpha, lora_dropout, target_modules) to a model
 * of this package: every targeted Linear or conv then computes W·x + (alpha/r)·B·A·x, the base
 * weights untouched. B starts at zero, so the model's output is unchanged until it trains.
 */
export function addLora(model: LoraModel, options: LoraOptions): LoraAdapter {
  checkOptions('addLora', options, LORA_KEYS);
  const rank = checkRank('addLora', options.rank);
  const alpha = options.alpha ?? rank;
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new RangeError(`addLora: alpha must be a positive number; got ${showValue(alpha)}`);
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`addLora: dropout must be in [0, 1); got ${showValue(dropout)}`);
  const weight = options.weight ?? 1;
  if (!Number.isFinite(weight)) throw new RangeError(`addLora: weight must be a finite number; got ${showValue(weight)}`);
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !/^[\w-]+$/.test(name)) throw new TypeError(`addLora: name must be letters, digits, '_' or '-'; got ${showValue(name)}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new TypeError(`addLora: seed must be an integer; got ${showValue(seed)}`);
  const raw = options.targets ?? DEFAULT_LORA_TARGETS;
  const targets: LoraTarget[] = typeof raw === 'string' || raw instanceof RegExp ? [raw] : [...raw];
  for (const t of targets) if (typeof t !== 'string' && !(t instanceof RegExp)) throw new TypeError(`addLora: targets must be module names or RegExps; got ${showValue(t)}`);
  const all = loraModules(model);
  const mods = all.filter((m) => matchesTarget(m, targets));
  if (mods.length === 0) {
    throw new Error(`addLora: targets ${showList(targets.map(String))} match no layer of this model; its layers: ${showList(all.map((m) => m.name))}`);
  }
  return attachAdapter(model, name, mods.map((module) => ({ module, rank, alpha })), { rank, alpha, dropout, targets: mods.map((m) => m.name) }, weight, seed);
}

/** The model's adapters, in the order they were added. */
export function loraAdapters(model: ParamModule): LoraAdapter[] {
  return [...(loraSetOf(model, () => [], false)?.adapters ?? [])];
}

/**
 * The model as a trainer sees it with only `adapters` (default all) trainable: `parameters()` is
 * their variables, so the optimizer, the EMA and checkpoints hold those alone; a training call
 * applies their dropout.
 */
export function loraTrainable(model: LoraModel, adapters: readonly LoraAdapter[] = loraAdapters(model)): LoraModel & { readonly adapters: readonly LoraAdapter[] } {
  const set = loraSetOf(model, () => [], false);
  if (!set || adapters.length === 0) throw new Error('loraTrainable: the model has no LoRA adapter; add one with addLora or loadLora');
  for (const a of adapters) if (!set.adapters.includes(a)) throw new Error(`loraTrainable: adapter '${a.name}' is not on this model (removed?)`);
  const params = (): NamedParameter[] => adapters.flatMap((a) => a.parameters());
  return Object.assign(Object.create(model) as LoraModel, {
    adapters,
    // A checkpoint of this view holds adapters, not a model: its config says so (createModel refuses it).
    config: { ...model.config, lora: adapters.map((a) => ({ name: a.name, ...a.info })) },
    parameters: params,
    numParameters: () => params().reduce((s, p) => s + p.variable.size, 0),
    predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning, opts: PredictOptions = {}): tf.Tensor4D {
      const merged = adapters.find((a) => a.merged);
      if (merged) throw new Error(`loraTrainable: adapter '${merged.name}' is merged into the base weights; unmerge it to train it`);
      set.training = opts.training ? opts.seed ?? 0 : null;
      try {
        return model.predict(x, t, cond, opts);
      } finally {
        set.training = null;
      }
    },
  });
}
