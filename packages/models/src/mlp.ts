import * as tf from '@tensorflow/tfjs';
import { dropout } from '@tfjs-diffusion/regularizers';
import { checkOptions, checkPrediction, optionKeys, type Prediction, showValue } from '@tfjs-diffusion/schedules';
import { dense, embed, ParamModule, ParamStore, silu, timestepFeatures } from './layers.js';
import type { Conditioning } from '@tfjs-diffusion/samplers';
import { checkInputs, classIds, MODEL_OPTION_KEYS, type ModelOptions, type PredictOptions } from './inputs.js';

export interface MLPConfig {
  kind: 'mlp';
  /** Data dimension D; inputs are [B, 1, 1, D]. */
  dim: number;
  /** Width of the hidden layers. */
  hidden: number;
  /** Residual blocks (each Linear → SiLU → Linear, plus the embedding). */
  layers: number;
  timeFeatureDim: number;
  numClasses: number | null;
  dropout: number;
  predictionType: Prediction;
  /** false: the network never sees t. */
  timeConditioning: boolean;
}

export type MLPOptions = Partial<Omit<MLPConfig, 'kind'>> & { kind?: 'mlp'; dim: number };

const MLP_KEYS = optionKeys<MLPOptions>()([
  'kind', 'dim', 'hidden', 'layers', 'timeFeatureDim', 'numClasses', 'dropout', 'predictionType', 'timeConditioning',
]);

export function resolveMLPConfig(o: MLPOptions): MLPConfig {
  checkOptions('MLPDenoiser', o, MLP_KEYS);
  const int = (v: unknown, name: string) => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`MLPDenoiser: ${name} must be a positive integer; got ${showValue(v)}`);
    return v as number;
  };
  const cfg: MLPConfig = {
    kind: 'mlp',
    dim: int(o.dim, 'dim'),
    hidden: int(o.hidden ?? 256, 'hidden'),
    layers: int(o.layers ?? 3, 'layers'),
    timeFeatureDim: int(o.timeFeatureDim ?? 32, 'timeFeatureDim'),
    numClasses: o.numClasses ?? null,
    dropout: o.dropout ?? 0,
    predictionType: checkPrediction(o.predictionType ?? 'epsilon', 'MLPDenoiser: predictionType'),
    timeConditioning: o.timeConditioning ?? true,
  };
  if (cfg.timeFeatureDim % 2) throw new RangeError(`MLPDenoiser: timeFeatureDim must be even; got ${cfg.timeFeatureDim}`);
  if (cfg.numClasses !== null) int(cfg.numClasses, 'numClasses');
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new RangeError(`MLPDenoiser: dropout must be in [0, 1); got ${cfg.dropout}`);
  return cfg;
}

/** A residual MLP denoiser for vector data shaped [B, 1, 1, D] (2-D toys, points in R^64). */
export class MLPDenoiser extends ParamModule {
  readonly config: MLPConfig;
  readonly prediction: Prediction;
  /** Real classes (the null class is this index); null: unconditional. Lets `sample()` check class ids once. */
  get numClasses(): number | null {
    return this.config.numClasses;
  }
  protected readonly p: ParamStore;

  constructor(config: MLPOptions, opts: ModelOptions = {}) {
    super();
    checkOptions('MLPDenoiser', opts, MODEL_OPTION_KEYS);
    const c = (this.config = resolveMLPConfig(config));
    this.prediction = c.predictionType;
    const p = (this.p = new ParamStore(opts.seed ?? 0));
    const dn = (n: string, ci: number, co: number) => { p.create(`${n}.kernel`, [ci, co]); p.create(`${n}.bias`, [co], 'zeros'); };
    dn('in', c.dim, c.hidden);
    if (c.timeConditioning) { dn('timeEmbed.0', c.timeFeatureDim, c.hidden); dn('timeEmbed.1', c.hidden, c.hidden); }
    if (c.numClasses !== null) p.create('classEmbed.table', [c.numClasses + 1, c.hidden], { normal: 1 / Math.sqrt(c.numClasses + 1) });
    for (let i = 0; i < c.layers; i++) {
      dn(`blocks.${i}.fc1`, c.hidden, c.hidden);
      dn(`blocks.${i}.emb`, c.hidden, c.hidden);
      dn(`blocks.${i}.fc2`, c.hidden, c.hidden);
    }
    // The output layer starts at a tenth of the usual scale (improved-diffusion and DiT start it at zero):
    // at full scale a wide input (784-d, hidden 512) gives outputs of variance ~0.4, Adam's first steps
    // shrink them to nothing, and the network stalls at predicting zero noise (ε-MSE 1.0).
    p.create('out.kernel', [c.hidden, c.dim], { normal: 0.1 / Math.sqrt(c.hidden) });
    p.create('out.bias', [c.dim], 'zeros');
  }

  predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning, opts: PredictOptions = {}): tf.Tensor4D {
    const c = this.config;
    checkInputs('MLPDenoiser', x, t, cond, c.numClasses);
    const [b, h, w, d] = x.shape;
    if (h !== 1 || w !== 1 || d !== c.dim) throw new Error(`MLPDenoiser.predict: x must be [batch, 1, 1, ${c.dim}]; got [${x.shape}]`);
    const rate = opts.training ? opts.dropoutRate ?? c.dropout : 0;
    let seed = opts.seed ?? 0;
    const p = this.p;
    return tf.tidy(() => {
      let e: tf.Tensor2D | undefined;
      if (c.timeConditioning) e = dense(p, 'timeEmbed.1', silu(dense(p, 'timeEmbed.0', timestepFeatures(t, c.timeFeatureDim))));
      if (c.numClasses !== null) {
        const ce = embed(p.get('classEmbed.table') as tf.Tensor2D, classIds(cond, c.numClasses, b));
        e = e ? (tf.add(e, ce) as tf.Tensor2D) : ce;
      }
      const es = e ? silu(e) : undefined;
      let hdn = dense(p, 'in', tf.reshape(x, [b, d]));
      for (let i = 0; i < c.layers; i++) {
        let y = dense(p, `blocks.${i}.fc1`, silu(hdn));
        if (es) y = tf.add(y, dense(p, `blocks.${i}.emb`, es));
        y = silu(y);
        seed = (seed + 1) | 0;
        if (rate > 0) y = dropout(y, rate, seed);
        hdn = tf.add(hdn, dense(p, `blocks.${i}.fc2`, y));
      }
      return tf.reshape(dense(p, 'out', silu(hdn)), [b, 1, 1, d]);
    });
  }
}
