// Which layers of a model take a LoRA adapter, under which names (PEFT's module names).
import { diffusersNames } from '../diffusers.js';
import type { ParamModule } from '../layers.js';
import { UNet } from '../unet.js';

/** One module an adapter can target: a Linear or a conv, as PEFT sees it, inside one of our layers. */
export interface LoraModule {
  /** PEFT's module name: diffusers' for a U-Net (`down_blocks.1.attentions.0.to_q`), ours for the MLP (`blocks.0.fc1`). */
  readonly name: string;
  /** Our layer, whose weight is `${layer}.kernel` (q, k and v are three modules of one `qkv` layer). */
  readonly layer: string;
  /** How PEFT and the adapter file see it: a Linear (`lora_A` [r, in]) or a conv (`lora_A` [r, in, k, k]). */
  readonly kind: 'linear' | 'conv';
  /** How our layer computes it: a dense kernel [in, out] or a conv kernel [k, k, in, out]. */
  readonly layerKind: 'dense' | 'conv';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly kernelSize: number;
  /** Where its outputs start among the layer's (the third of a fused q/k/v). */
  readonly outOffset: number;
  readonly layerOut: number;
}

/** diffusers' attention projections: Linear layers there, 1×1 convs here. */
const ATTENTION_LINEAR = /(^|\.)(to_q|to_k|to_v|to_out\.0|add_q_proj|add_k_proj|add_v_proj|to_add_out)$/;

/** PEFT's defaults in diffusers' LoRA training scripts: the attention projections. */
export const DEFAULT_LORA_TARGETS: readonly string[] = ['to_q', 'to_k', 'to_v', 'to_out.0'];

/** Every dense and conv layer of the model as LoRA modules, in parameter order. */
export function loraModules(model: ParamModule): LoraModule[] {
  let theirs: Map<string, string[]> | undefined;
  // A U-Net's modules are named as diffusers names its weights; a block without a diffusers name falls back to ours.
  if (model instanceof UNet) {
    try { theirs = diffusersNames(model); } catch { theirs = undefined; }
  }
  const out: LoraModule[] = [];
  for (const { name, variable } of model.parameters()) {
    if (!name.endsWith('.kernel')) continue;
    const layer = name.slice(0, -'.kernel'.length);
    const shape = variable.shape;
    const layerKind = shape.length === 2 ? 'dense' : 'conv';
    const k = layerKind === 'conv' ? shape[0]! : 1;
    const inFeatures = shape[shape.length - 2]!;
    const layerOut = shape[shape.length - 1]!;
    const names = theirs?.get(name)?.map((n) => n.replace(/\.weight$/, '')) ?? [layer];
    const width = layerOut / names.length;
    names.forEach((m, i) => {
      const kind = layerKind === 'dense' || (k === 1 && ATTENTION_LINEAR.test(m)) ? 'linear' : 'conv';
      out.push({ name: m, layer, kind, layerKind, inFeatures, outFeatures: width, kernelSize: k, outOffset: i * width, layerOut });
    });
  }
  return out;
}

export type LoraTarget = string | RegExp;

/**
 * PEFT's `target_modules`: a string names a module by its full name or its last dotted parts
 * (`to_q`, `attentions.0.to_q`); a RegExp must match the whole name. Our layer names match too.
 */
export function matchesTarget(m: Pick<LoraModule, 'name' | 'layer'>, targets: readonly LoraTarget[]): boolean {
  return targets.some((t) =>
    [m.name, m.layer].some((n) => (typeof t === 'string' ? n === t || n.endsWith(`.${t}`) : new RegExp(`^(?:${t.source})$`, t.flags.replace('g', '')).test(n))),
  );
}
