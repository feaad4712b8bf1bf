// LoRA adapters on a model's layers: the forward adds scale·B·A·x to each targeted layer's
// output (PEFT's `lora.Linear` / `lora.Conv2d`), merge folds it into the base weight.
import * as tf from '@tensorflow/tfjs';
import { dropout as dropoutOp, type NamedParameter } from '@tfjs-diffusion/regularizers';
import type { ConvGeometry, ParamModule } from '../layers.js';
import type { LoraModule } from './modules.js';

/** One module's low-rank pair, in our layout: A [in, r] or [k, k, in, r]; B [r, out] or [1, 1, r, out]. */
export interface LoraPair {
  readonly module: LoraModule;
  readonly rank: number;
  readonly alpha: number;
  readonly A: tf.Variable;
  readonly B: tf.Variable;
}

/** What an adapter was made with (PEFT's LoraConfig fields: r, lora_alpha, lora_dropout, target_modules). */
export interface LoraInfo {
  rank: number;
  alpha: number;
  dropout: number;
  targets: string[];
}

const mixSeed = (seed: number, a: number, b: number): number => {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(a + 1, 0x85ebca6b) ^ Math.imul(b + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) & 0x7fffffff;
};

/** B·A·x for one pair (no scale): a dense pair by two matmuls, a conv pair by A's conv (the layer's geometry) and B's 1×1. */
function lowRank(p: LoraPair, x: tf.Tensor, geo?: ConvGeometry): tf.Tensor {
  if (p.module.layerKind === 'dense') return tf.matMul(tf.matMul(x as tf.Tensor2D, p.A as tf.Tensor2D), p.B as tf.Tensor2D);
  const { stride = 1, pad = 'same' } = geo ?? {};
  const x4 = x as tf.Tensor4D;
  const y = pad === 'same' ? tf.conv2d(x4, p.A as tf.Tensor4D, stride, 'same') : tf.conv2d(x4, p.A as tf.Tensor4D, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  return tf.conv2d(y, p.B as tf.Tensor4D, 1, 'valid');
}

/** B·A as a weight in the layer's layout, for the module's output columns: [in, out] or [k, k, in, out]. */
function deltaWeight(p: LoraPair): tf.Tensor {
  const m = p.module;
  if (m.layerKind === 'dense') return tf.matMul(p.A as tf.Tensor2D, p.B as tf.Tensor2D);
  const k = m.kernelSize;
  const a = tf.reshape(p.A, [k * k * m.inFeatures, p.rank]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(a, tf.reshape(p.B, [p.rank, m.outFeatures]) as tf.Tensor2D), [k, k, m.inFeatures, m.outFeatures]);
}

/** A LoRA adapter attached to one model (`addLora`, `loadLora`). */
export class LoraAdapter {
  private readonly byLayer = new Map<string, LoraPair[]>();
  private w: number;
  /** @internal */
  constructor(
    private readonly set: LoraSet,
    readonly name: string,
    readonly pairs: readonly LoraPair[],
    readonly info: LoraInfo,
    weight: number,
  ) {
    this.w = weight;
    for (const p of pairs) this.byLayer.set(p.module.layer, [...(this.byLayer.get(p.module.layer) ?? []), p]);
  }

  /** Its share at sampling time: the forward adds weight · (alpha/r) · B·A·x. */
  get weight(): number {
    return this.w;
  }

  set weight(w: number) {
    if (!Number.isFinite(w)) throw new RangeError(`LoraAdapter '${this.name}': weight must be a finite number; got ${w}`);
    if (this.merged) throw new Error(`LoraAdapter '${this.name}': is merged; unmerge it before changing its weight`);
    this.w = w;
  }

  get dropout(): number {
    return this.info.dropout;
  }

  /** True while folded into the base weights (the forward then skips it). */
  get merged(): boolean {
    return this.set.merged.includes(this);
  }

  get removed(): boolean {
    return !this.set.adapters.includes(this);
  }

  /** The layers it changes. */
  layers(): string[] {
    return [...this.byLayer.keys()];
  }

  /** @internal */
  pairsOf(layer: string): readonly LoraPair[] {
    return this.byLayer.get(layer) ?? [];
  }

  /** Its variables, named `${module}.lora_A.${name}` / `.lora_B.${name}` as PEFT names them in the model (our layout). */
  parameters(): NamedParameter[] {
    return this.pairs.flatMap((p) => [
      { name: `${p.module.name}.lora_A.${this.name}`, variable: p.A },
      { name: `${p.module.name}.lora_B.${this.name}`, variable: p.B },
    ]);
  }

  numParameters(): number {
    return this.pairs.reduce((s, p) => s + p.A.size + p.B.size, 0);
  }

  /** Folds weight · scale · B·A into the base weights (the forward is the same, faster). */
  merge(): void {
    this.alive('merge');
    this.set.merge(this);
  }

  /** Restores the base weights as they were before the merge, bit for bit. */
  unmerge(): void {
    this.alive('unmerge');
    this.set.unmerge(this);
  }

  /** Detaches it (unmerging first) and frees its variables. */
  remove(): void {
    this.alive('remove');
    this.set.remove(this);
  }

  private alive(what: string): void {
    if (this.removed) throw new Error(`LoraAdapter '${this.name}': ${what} after remove()`);
  }
}

/** The adapters of one model and the hook its layers call. */
export class LoraSet {
  readonly adapters: LoraAdapter[] = [];
  /** Merged adapters, in merge order. */
  readonly merged: LoraAdapter[] = [];
  /** The dropout seed of the training call under way (`loraTrainable`), or null: no dropout. */
  training: number | null = null;
  /** Base kernels as they were before the first merge that touched them. */
  private readonly backups = new Map<string, tf.Tensor>();
  private readonly kernels = new Map<string, tf.Variable>();

  constructor(readonly model: ParamModule, private readonly layerModules: Map<string, LoraModule[]>) {
    for (const p of model.parameters()) if (p.name.endsWith('.kernel')) this.kernels.set(p.name.slice(0, -'.kernel'.length), p.variable);
    model.setLayerHook(this.hook);
  }

  readonly hook = (layer: string, x: tf.Tensor, geo?: ConvGeometry): tf.Tensor | null => {
    const mods = this.layerModules.get(layer);
    if (!mods) return null;
    const parts: (tf.Tensor | null)[] = mods.map(() => null);
    this.adapters.forEach((a, ai) => {
      if (a.weight === 0 || this.merged.includes(a)) return;
      for (const p of a.pairsOf(layer)) {
        const i = mods.findIndex((m) => m.name === p.module.name);
        const xin = this.training !== null && a.dropout > 0 ? dropoutOp(x, a.dropout, mixSeed(this.training, ai, a.pairs.indexOf(p))) : x;
        const term = tf.mul(lowRank(p, xin, geo), (a.weight * p.alpha) / p.rank);
        parts[i] = parts[i] ? tf.add(parts[i]!, term) : term;
      }
    });
    const like = parts.find((p) => p !== null);
    if (!like) return null;
    if (parts.length === 1) return like;
    return tf.concat(parts.map((p, i) => p ?? tf.zeros([...like.shape.slice(0, -1), mods[i]!.outFeatures])), -1);
  };

  /** weight · Σ scale·B·A of `a` on `layer`, over the whole layer's outputs. */
  private layerDelta(a: LoraAdapter, layer: string): tf.Tensor {
    const mods = this.layerModules.get(layer)!;
    const kernel = this.kernels.get(layer)!;
    return tf.tidy(() => {
      const parts = mods.map((m) => {
        const p = a.pairsOf(layer).find((q) => q.module.name === m.name);
        if (p) return tf.mul(deltaWeight(p), (a.weight * p.alpha) / p.rank);
        return tf.zeros([...kernel.shape.slice(0, -1), m.outFeatures]);
      });
      return parts.length === 1 ? parts[0]! : tf.concat(parts, -1);
    });
  }

  private fold(a: LoraAdapter, layer: string): void {
    const kernel = this.kernels.get(layer)!;
    const d = this.layerDelta(a, layer);
    tf.tidy(() => kernel.assign(tf.add(kernel, d)));
    d.dispose();
  }

  merge(a: LoraAdapter): void {
    if (this.merged.includes(a)) throw new Error(`LoraAdapter '${a.name}': already merged`);
    for (const layer of a.layers()) {
      if (!this.backups.has(layer)) this.backups.set(layer, tf.clone(this.kernels.get(layer)!));
      this.fold(a, layer);
    }
    this.merged.push(a);
  }

  unmerge(a: LoraAdapter): void {
    const at = this.merged.indexOf(a);
    if (at < 0) throw new Error(`LoraAdapter '${a.name}': is not merged`);
    this.merged.splice(at, 1);
    for (const layer of a.layers()) {
      // Back to the saved base, then the adapters still merged, so the base comes back bit for bit.
      const kernel = this.kernels.get(layer)!;
      const backup = this.backups.get(layer)!;
      kernel.assign(backup);
      const others = this.merged.filter((o) => o.layers().includes(layer));
      for (const o of others) this.fold(o, layer);
      if (others.length === 0) {
        backup.dispose();
        this.backups.delete(layer);
      }
    }
  }

  add(a: LoraAdapter): LoraAdapter {
    this.adapters.push(a);
    return a;
  }

  remove(a: LoraAdapter): void {
    if (this.merged.includes(a)) this.unmerge(a);
    this.adapters.splice(this.adapters.indexOf(a), 1);
    for (const p of a.pairs) { p.A.dispose(); p.B.dispose(); }
    this.detachIfEmpty();
  }

  /** With no adapter left, the model goes back to plain layers. */
  detachIfEmpty(): void {
    if (this.adapters.length > 0) return;
    this.model.setLayerHook(null);
    SETS.delete(this.model);
  }
}

const SETS = new WeakMap<ParamModule, LoraSet>();

/** The model's adapter set, created (and its hook installed) on first use. */
export function loraSetOf(model: ParamModule, modules: () => LoraModule[], create = true): LoraSet | undefined {
  let s = SETS.get(model);
  if (!s && create) {
    const byLayer = new Map<string, LoraModule[]>();
    for (const m of modules()) byLayer.set(m.layer, [...(byLayer.get(m.layer) ?? []), m]);
    s = new LoraSet(model, byLayer);
    SETS.set(model, s);
  }
  return s;
}
