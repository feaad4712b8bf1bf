import * as tf from '@tensorflow/tfjs';
import type { Conditioning, ConditioningField } from '@tfjs-diffusion/samplers';
import { checkOptions, type Prediction } from '@tfjs-diffusion/schedules';
import { DOWN_BLOCKS, MID_BLOCKS, UP_BLOCKS } from './blocks/registry.js';
import { declareConv, declareDense, declareGroupNorm } from './blocks/resnet.js';
import type { BlockContext, Declare, DownBlock, MidBlock, UpBlock } from './blocks/types.js';
import { levelBlockTypes, resolveUNetConfig, type UNetConfig, type UNetOptions } from './config.js';
import { checkInputs, classIds, type ConditionReads, MODEL_OPTION_KEYS, type ModelOptions, type PredictOptions } from './inputs.js';
import { conv, dense, embed, groupNorm, ParamModule, ParamStore, silu, timestepFeatures } from './layers.js';

/** The U-Net's blocks in forward order, built from the config's block types (diffusers' get_down_block / get_up_block). */
interface Blocks {
  down: DownBlock[];
  mid: MidBlock;
  /** Deepest level first. */
  up: UpBlock[];
  /** Condition fields some block reads besides the class embedding. */
  reads: ConditioningField[];
}

function buildBlocks(c: UNetConfig): Blocks {
  const types = levelBlockTypes(c);
  const ch = c.blockOutChannels;
  const L = ch.length;
  const skips = [ch[0]!];
  let cur = ch[0]!;
  const down = ch.map((co, l) => {
    const block = DOWN_BLOCKS[types.down[l]!]({ prefix: `down.${l}`, level: l, inChannels: cur, outChannels: co, numLayers: c.layersPerBlock, addDownsample: l < L - 1, config: c });
    skips.push(...block.skipChannels);
    cur = co;
    return block;
  });
  const mid = MID_BLOCKS[c.midBlockType]({ prefix: 'mid', level: L - 1, channels: cur, attention: c.midBlockAttention, config: c });
  const up: UpBlock[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const n = c.layersPerBlock + 1;
    const skipChannels = skips.splice(skips.length - n, n).reverse();
    up.push(UP_BLOCKS[types.up[l]!]({ prefix: `up.${l}`, level: l, inChannels: cur, skipChannels, outChannels: ch[l]!, numLayers: n, addUpsample: l > 0, config: c }));
    cur = ch[l]!;
  }
  const reads = [...new Set([...down, mid, ...up].flatMap((b) => b.reads ?? []))];
  return { down, mid, up, reads };
}

/** Every parameter of a U-Net, by name and shape, in creation order (the constructor and `unetParameterCount` share it). */
function declareUNetParameters(c: UNetConfig, blocks: Blocks, create: Declare): void {
  const E = c.embedDim;
  if (c.timeConditioning) { declareDense(create, 'timeEmbed.0', c.timeFeatureDim, E); declareDense(create, 'timeEmbed.1', E, E); }
  if (c.numClasses !== null) create('classEmbed.table', [c.numClasses + 1, E], { normal: 1 / Math.sqrt(c.numClasses + 1) });
  const ch0 = c.blockOutChannels[0]!;
  declareConv(create, 'convIn', 3, c.inChannels, ch0);
  for (const b of blocks.down) b.declare(create);
  blocks.mid.declare(create);
  for (const b of blocks.up) b.declare(create);
  declareGroupNorm(create, 'normOut', ch0);
  declareConv(create, 'convOut', 3, ch0, c.outChannels);
}

/** Every parameter's name and shape, in creation order, without allocating. */
export function unetParameterShapes(config: UNetOptions): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  const c = resolveUNetConfig(config);
  declareUNetParameters(c, buildBlocks(c), (name, shape) => { out.push({ name, shape }); });
  return out;
}

/** The number of parameters (floats) of a U-Net config, computed without allocating: to check sizes before building. */
export function unetParameterCount(config: UNetOptions): number {
  let n = 0;
  const c = resolveUNetConfig(config);
  declareUNetParameters(c, buildBlocks(c), (_, shape) => { n += shape.reduce((a, b) => a * b, 1); });
  return n;
}

/**
 * A U-Net denoiser assembled from diffusers' blocks (`downBlockTypes`, `upBlockTypes`): residual
 * blocks (GroupNorm, SiLU, conv, time/class embedding added per channel, dropout), self-attention at
 * chosen levels and in the middle, stride-2 conv down, nearest ×2 + conv up, skip connections. NHWC, as tfjs.
 */
export class UNet extends ParamModule {
  readonly config: UNetConfig;
  readonly prediction: Prediction;
  /** Real classes (the null class is this index); null: unconditional. Lets `sample()` check class ids once. */
  get numClasses(): number | null {
    return this.config.numClasses;
  }
  protected readonly p: ParamStore;
  private readonly blocks: Blocks;
  private readonly reads: ConditionReads;

  constructor(config: UNetOptions, opts: ModelOptions = {}) {
    super();
    checkOptions('UNet', opts, MODEL_OPTION_KEYS);
    this.config = resolveUNetConfig(config);
    this.prediction = this.config.predictionType;
    const c = this.config;
    const p = (this.p = new ParamStore(opts.seed ?? 0));
    this.blocks = buildBlocks(c);
    this.reads = Object.fromEntries(this.blocks.reads.map((k) => [k, true]));
    // A failed allocation (a heap that runs out) frees what was made before it.
    try {
      declareUNetParameters(c, this.blocks, (name, shape, init) => p.create(name, shape, init));
    } catch (e) {
      p.dispose();
      throw e;
    }
  }

  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning, opts: PredictOptions = {}): tf.Tensor4D {
    const c = this.config;
    checkInputs('UNet', x, t, cond, c.numClasses, this.reads);
    const [, H, W, C] = x.shape;
    const div = 2 ** (c.blockOutChannels.length - 1);
    if (C !== c.inChannels) throw new Error(`UNet.predict: x has ${C} channels; the model takes inChannels = ${c.inChannels}`);
    if (H % div !== 0 || W % div !== 0) throw new Error(`UNet.predict: x is ${H}×${W}; height and width must be multiples of ${div}`);
    if (this.reads.encoderHiddenStates) {
      const s = cond?.encoderHiddenStates;
      const D = c.crossAttentionDim;
      if (!s) throw new Error(`UNet.predict: the model has cross-attention blocks; pass cond.encoderHiddenStates [batch, length, ${D}] (e.g. a text encoder's states; the empty prompt's for unconditional)`);
      if (s.shape[2] !== D) throw new Error(`UNet.predict: cond.encoderHiddenStates rows must have crossAttentionDim = ${D} values; got shape [${s.shape}]`);
    }
    const training = opts.training ?? false;
    let dropSeed = opts.seed ?? 0;
    const p = this.p;
    return tf.tidy(() => {
      const b = x.shape[0];
      let e: tf.Tensor2D | undefined;
      if (c.timeConditioning) {
        const feats = timestepFeatures(t, c.timeFeatureDim, { flipSinToCos: c.flipSinToCos, freqShift: c.freqShift });
        e = dense(p, 'timeEmbed.1', silu(dense(p, 'timeEmbed.0', feats)));
      }
      if (c.numClasses !== null) {
        const ce = embed(p.get('classEmbed.table') as tf.Tensor2D, classIds(cond, c.numClasses, b));
        e = e ? (tf.add(e, ce) as tf.Tensor2D) : ce;
      }
      const ctx: BlockContext = {
        p, config: c, batch: b, emb: e ? silu(e) : undefined, cond,
        dropoutRate: training ? opts.dropoutRate ?? c.dropout : 0,
        nextDropoutSeed: () => (dropSeed = (dropSeed + 1) | 0),
      };
      let h = conv(p, 'convIn', c.centerInputSample ? (tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D) : x);
      const skips: tf.Tensor4D[] = [h];
      for (const block of this.blocks.down) {
        const r = block.forward(ctx, h);
        h = r.h;
        skips.push(...r.skips);
      }
      h = this.blocks.mid.forward(ctx, h);
      const n = c.layersPerBlock + 1;
      for (const block of this.blocks.up) h = block.forward(ctx, h, skips.splice(skips.length - n, n).reverse());
      return conv(p, 'convOut', groupNorm(p, 'normOut', h, c.normNumGroups, c.normEps, { silu: true }));
    });
  }
}
