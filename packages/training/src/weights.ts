// Inference weights of a checkpoint: the EMA for trained parameters, the raw weights for frozen ones.
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { Checkpoint, TensorMap } from './checkpoint.js';

export type WeightsSource = 'ema' | 'model';

export interface InferenceWeights {
  /** Tensors by parameter name, every parameter of the model. */
  tensors: TensorMap;
  /** 'ema' when the trainable parameters come from the EMA, 'model' for the raw weights. */
  source: WeightsSource;
}

export interface InferenceWeightsOptions {
  /** The EMA for the trained parameters when the checkpoint has one. Default true. */
  ema?: boolean;
  /** Names the checkpoint in errors. Default 'at step N'. */
  where?: string;
}

const INFERENCE_WEIGHTS_KEYS = optionKeys<InferenceWeightsOptions>()(['ema', 'where']);

/**
 * The weights to sample with. With `ema` (default) and a run that kept an
 * EMA: the EMA for every trained parameter and the raw weights for the
 * frozen ones (the EMA covers only what was trained; frozen weights never
 * moved). A trained parameter without its EMA tensor is an error naming it.
 */
export function inferenceWeights(ck: Checkpoint, opts: InferenceWeightsOptions = {}): InferenceWeights {
  checkOptions('inferenceWeights', opts, INFERENCE_WEIGHTS_KEYS);
  const { ema = true, where = `at step ${ck.state.step}` } = opts;
  if (!ema || ck.ema === null) return { tensors: { ...ck.model }, source: 'model' };
  const trained = new Set(ck.state.config.trainable);
  const tensors: TensorMap = {};
  for (const [name, raw] of Object.entries(ck.model)) {
    if (!trained.has(name)) {
      tensors[name] = raw;
      continue;
    }
    const avg = ck.ema[name];
    if (!avg) throw new Error(`checkpoint ${where}: no EMA weights for the trained parameter '${name}' (corrupt checkpoint?); pass ema: false for the raw weights`);
    tensors[name] = avg;
  }
  for (const name of trained) {
    if (!(name in ck.model)) throw new Error(`checkpoint ${where}: state.json lists trained parameter '${name}', which has no weights`);
  }
  return { tensors, source: 'ema' };
}
