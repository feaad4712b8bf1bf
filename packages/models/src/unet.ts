import * as tf from '@tensorflow/tfjs';
import { dropout } from '@tfjs-diffusion/regularizers';
import { checkOptions, type Prediction } from '@tfjs-diffusion/schedules';
import { attentionHeadsFor, attentionLevels, resolveUNetConfig, type UNetConfig, type UNetOptions } from './config.js';
import type { Conditioning } from '@tfjs-diffusion/samplers';
import { checkInputs, classIds, MODEL_OPTION_KEYS, type ModelOptions, type PredictOptions } from './inputs.js';
import { conv, dense, embed, groupNorm, ParamModule, ParamStore, silu, timestepFeatures } from './layers.js';

type Init = Parameters<ParamStore['create']>[2];

/** Every parameter of a U-Net, by name and shape, in creation order (the constructor and `unetParameterCount` share it). */
function declareUNetParameters(c: UNetConfig, create: (name: string, shape: number[], init?: Init) => void): void {
  const p = { create };
  const attnLevels = attentionLevels(c);
  const E = c.embedDim;
  const embOut = c.resnetTimeScaleShift === 'scale_shift' ? 2 : 1;
  const gn = (n: string, ch: number) => { p.create(`${n}.gamma`, [ch], 'ones'); p.create(`${n}.beta`, [ch], 'zeros'); };
  const cv = (n: string, k: number, ci: number, co: number) => { p.create(`${n}.kernel`, [k, k, ci, co]); p.create(`${n}.bias`, [co], 'zeros'); };
  const dn = (n: string, ci: number, co: number) => { p.create(`${n}.kernel`, [ci, co]); p.create(`${n}.bias`, [co], 'zeros'); };
  const res = (n: string, ci: number, co: number) => {
    gn(`${n}.norm1`, ci); cv(`${n}.conv1`, 3, ci, co); dn(`${n}.emb`, E, embOut * co);
    gn(`${n}.norm2`, co); cv(`${n}.conv2`, 3, co, co);
    if (ci !== co) cv(`${n}.skip`, 1, ci, co);
  };
  // diffusers' mid-block attention has no GroupNorm under scale_shift; the same rule here keeps the two interchangeable.
  const attn = (n: string, ch: number, norm = true) => { if (norm) gn(`${n}.norm`, ch); cv(`${n}.qkv`, 1, ch, 3 * ch); cv(`${n}.out`, 1, ch, ch); };

  if (c.timeConditioning) { dn('timeEmbed.0', c.timeFeatureDim, E); dn('timeEmbed.1', E, E); }
  if (c.numClasses !== null) p.create('classEmbed.table', [c.numClasses + 1, E], { normal: 1 / Math.sqrt(c.numClasses + 1) });
  const ch = c.blockOutChannels;
  const L = ch.length;
  cv('convIn', 3, c.inChannels, ch[0]!);
  const skips = [ch[0]!];
  let cur = ch[0]!;
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < c.layersPerBlock; i++) {
      res(`down.${l}.res.${i}`, cur, ch[l]!);
      cur = ch[l]!;
      if (attnLevels.down[l]) attn(`down.${l}.attn.${i}`, cur);
      skips.push(cur);
    }
    if (l < L - 1) { cv(`down.${l}.downsample`, 3, cur, cur); skips.push(cur); }
  }
  res('mid.res.0', cur, cur);
  if (c.midBlockAttention) attn('mid.attn', cur, c.resnetTimeScaleShift === 'default');
  res('mid.res.1', cur, cur);
  for (let l = L - 1; l >= 0; l--) {
    for (let i = 0; i <= c.layersPerBlock; i++) {
      res(`up.${l}.res.${i}`, cur + skips.pop()!, ch[l]!);
      cur = ch[l]!;
      if (attnLevels.up[l]) attn(`up.${l}.attn.${i}`, cur);
    }
    if (l > 0) cv(`up.${l}.upsample`, 3, cur, cur);
  }
  gn('normOut', cur);
  cv('convOut', 3, cur, c.outChannels);
}

/** Every parameter's name and shape, in creation order, without allocating. */
export function unetParameterShapes(config: UNetOptions): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  declareUNetParameters(resolveUNetConfig(config), (name, shape) => { out.push({ name, shape }); });
  return out;
}

/** The number of parameters (floats) of a U-Net config, computed without allocating: to check sizes before building. */
export function unetParameterCount(config: UNetOptions): number {
  let n = 0;
  declareUNetParameters(resolveUNetConfig(config), (_, shape) => { n += shape.reduce((a, b) => a * b, 1); });
  return n;
}

/**
 * A U-Net denoiser: residual blocks (GroupNorm, SiLU, conv, time/class
 * embedding added per channel, dropout), self-attention at chosen
 * resolutions and in the middle, stride-2 conv down, nearest ×2 + conv up,
 * skip connections. NHWC, as tfjs.
 */
export class UNet extends ParamModule {
  readonly config: UNetConfig;
  readonly prediction: Prediction;
  /** Real classes (the null class is this index); null: unconditional. Lets `sample()` check class ids once. */
  get numClasses(): number | null {
    return this.config.numClasses;
  }
  protected readonly p: ParamStore;
  /** Per level: attention after each residual block going down / up. */
  private readonly attn: { down: boolean[]; up: boolean[] };

  constructor(config: UNetOptions, opts: ModelOptions = {}) {
    super();
    checkOptions('UNet', opts, MODEL_OPTION_KEYS);
    this.config = resolveUNetConfig(config);
    this.prediction = this.config.predictionType;
    const c = this.config;
    const p = (this.p = new ParamStore(opts.seed ?? 0));
    this.attn = attentionLevels(c);
    // A failed allocation (a heap that runs out) frees what was made before it.
    try {
      declareUNetParameters(c, (name, shape, init) => p.create(name, shape, init));
    } catch (e) {
      p.dispose();
      throw e;
    }
  }

  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning, opts: PredictOptions = {}): tf.Tensor4D {
    const c = this.config;
    checkInputs('UNet', x, t, cond, c.numClasses);
    const [, H, W, C] = x.shape;
    const div = 2 ** (c.blockOutChannels.length - 1);
    if (C !== c.inChannels) throw new Error(`UNet.predict: x has ${C} channels; the model takes inChannels = ${c.inChannels}`);
    if (H % div !== 0 || W % div !== 0) throw new Error(`UNet.predict: x is ${H}×${W}; height and width must be multiples of ${div}`);
    const training = opts.training ?? false;
    const rate = training ? opts.dropoutRate ?? c.dropout : 0;
    let dropSeed = opts.seed ?? 0;
    const p = this.p;
    const G = c.normNumGroups;
    const eps = c.normEps;
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
      const es = e ? silu(e) : undefined;
      const res = (n: string, h: tf.Tensor4D): tf.Tensor4D => {
        let y = conv(p, `${n}.conv1`, groupNorm(p, `${n}.norm1`, h, G, eps, { silu: true }));
        const co = y.shape[3];
        let y2: tf.Tensor4D;
        if (es && c.resnetTimeScaleShift === 'scale_shift') {
          const [scale, shift] = tf.split(tf.reshape(dense(p, `${n}.emb`, es), [b, 1, 1, 2 * co]), 2, 3);
          y2 = silu(tf.add(tf.mul(groupNorm(p, `${n}.norm2`, y, G, eps), tf.add(scale!, 1)), shift!) as tf.Tensor4D);
        } else {
          if (es) y = tf.add(y, tf.reshape(dense(p, `${n}.emb`, es), [b, 1, 1, co]));
          y2 = groupNorm(p, `${n}.norm2`, y, G, eps, { silu: true });
        }
        dropSeed = (dropSeed + 1) | 0;
        if (rate > 0) y2 = dropout(y2, rate, dropSeed);
        y = conv(p, `${n}.conv2`, y2);
        return tf.add(p.has(`${n}.skip.kernel`) ? conv(p, `${n}.skip`, h) : h, y);
      };
      const attn = (n: string, h: tf.Tensor4D): tf.Tensor4D => {
        const [, hh, ww, cc] = h.shape;
        const heads = attentionHeadsFor(c, cc);
        const d = cc / heads;
        const qkv = conv(p, `${n}.qkv`, p.has(`${n}.norm.gamma`) ? groupNorm(p, `${n}.norm`, h, G, eps) : h);
        // [b, hw, 3, heads, d] → three [b·heads, hw, d]
        const parts = tf.split(tf.reshape(qkv, [b, hh * ww, 3 * cc]), 3, 2).map((z) =>
          heads === 1 ? z : tf.reshape(tf.transpose(tf.reshape(z, [b, hh * ww, heads, d]), [0, 2, 1, 3]), [b * heads, hh * ww, d]),
        );
        const a = tf.softmax(tf.mul(tf.matMul(parts[0]!, parts[1]!, false, true), 1 / Math.sqrt(d)));
        let o = tf.matMul(a, parts[2]!);
        if (heads > 1) o = tf.reshape(tf.transpose(tf.reshape(o, [b, heads, hh * ww, d]), [0, 2, 1, 3]), [b, hh * ww, cc]);
        return tf.add(h, conv(p, `${n}.out`, tf.reshape(o, [b, hh, ww, cc])));
      };
      const L = c.blockOutChannels.length;
      let h = conv(p, 'convIn', c.centerInputSample ? (tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D) : x);
      const skips: tf.Tensor4D[] = [h];
      for (let l = 0; l < L; l++) {
        for (let i = 0; i < c.layersPerBlock; i++) {
          h = res(`down.${l}.res.${i}`, h);
          if (this.attn.down[l]) h = attn(`down.${l}.attn.${i}`, h);
          skips.push(h);
        }
        if (l < L - 1) { h = conv(p, `down.${l}.downsample`, h, 2, c.downsamplePadding === 0 ? 'same' : 1); skips.push(h); }
      }
      h = res('mid.res.0', h);
      if (c.midBlockAttention) h = attn('mid.attn', h);
      h = res('mid.res.1', h);
      for (let l = L - 1; l >= 0; l--) {
        for (let i = 0; i <= c.layersPerBlock; i++) {
          h = res(`up.${l}.res.${i}`, tf.concat([h, skips.pop()!], 3));
          if (this.attn.up[l]) h = attn(`up.${l}.attn.${i}`, h);
        }
        if (l > 0) h = conv(p, `up.${l}.upsample`, tf.image.resizeNearestNeighbor(h, [h.shape[1] * 2, h.shape[2] * 2]));
      }
      return conv(p, 'convOut', groupNorm(p, 'normOut', h, G, eps, { silu: true }));
    });
  }
}
