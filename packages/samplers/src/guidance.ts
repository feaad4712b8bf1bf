import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { concatConditioning, conditioningFields, nullConditioning, type Conditioning, type ConditioningNulls } from './conditioning.js';
import type { Denoiser } from './types.js';

export interface GuidanceOptions {
  /** w in ε̃ = ε_u + w (ε_c − ε_u) (diffusers' `guidance_scale`): 1 = conditional, 0 = unconditional. */
  guidanceScale: number;
  /** φ of Lin et al. 2023 eq. 15–16 (diffusers' `guidance_rescale`), in [0, 1]. Default 0. */
  guidanceRescale?: number;
  /** The null (unconditional) class index, i.e. `numClasses`; needed when `cond` has classLabels. */
  nullClass?: number;
  /** The null value of the other fields (default 0: zero embeddings), e.g. the empty prompt's `encoderHiddenStates` row. */
  nulls?: Omit<ConditioningNulls, 'classLabels'>;
}

export const GUIDANCE_OPTION_KEYS = optionKeys<GuidanceOptions>()(['guidanceScale', 'guidanceRescale', 'nullClass', 'nulls']);

/** Standard deviation over all non-batch dims, unbiased as torch.std: shape [B, 1, 1, 1]. */
function stdPerSample(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const m = h * w * c;
  const flat = tf.reshape(x, [b, m]);
  const centred = tf.sub(flat, tf.mean(flat, 1, true));
  const variance = tf.div(tf.sum(tf.square(centred), 1, true), Math.max(m - 1, 1));
  return tf.reshape(tf.sqrt(variance), [b, 1, 1, 1]);
}

/**
 * Classifier-free guidance (Ho & Salimans 2022) as a Denoiser: the conditional
 * and null-class predictions come from one doubled batch and are mixed as
 * ε̃ = ε_u + w (ε_c − ε_u); with `guidanceRescale` φ > 0 the result is
 * rescaled to the conditional prediction's std (diffusers' `rescale_noise_cfg`):
 * ε̃ ← φ ε̃ std(ε_c)/std(ε̃) + (1 − φ) ε̃. Applied to the raw output, whatever its prediction type.
 */
export function classifierFreeGuidance(denoiser: Denoiser, options: GuidanceOptions): Denoiser {
  checkOptions('classifierFreeGuidance', options, GUIDANCE_OPTION_KEYS);
  const { guidanceScale: w, guidanceRescale: phi = 0, nullClass } = options;
  if (!Number.isFinite(w)) throw new Error(`guidanceScale must be a finite number; got ${w}`);
  if (!(phi >= 0 && phi <= 1)) throw new Error(`guidanceRescale must be in [0, 1]; got ${phi}`);
  if (nullClass !== undefined && (!Number.isInteger(nullClass) || nullClass < 0)) throw new Error(`nullClass must be a non-negative integer; got ${nullClass}`);
  const k = denoiser.numClasses;
  if (k === null && nullClass !== undefined) {
    throw new Error('classifierFreeGuidance: the denoiser is unconditional (numClasses is null); class guidance needs a class-conditional model');
  }
  const nulls: ConditioningNulls = { ...options.nulls, ...(nullClass !== undefined && { classLabels: nullClass }) };
  if (k !== undefined && k !== null && nullClass !== k) {
    throw new Error(`classifierFreeGuidance: nullClass must be the denoiser's null class ${k} (its numClasses); got ${nullClass}`);
  }
  return {
    prediction: denoiser.prediction,
    numClasses: k,
    predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D {
      if (!cond || conditioningFields(cond).length === 0) {
        throw new Error('classifierFreeGuidance: cond is required (the conditional classLabels or encoderHiddenStates)');
      }
      if (cond.classLabels && nullClass === undefined) throw new Error('classifierFreeGuidance: cond.classLabels needs nullClass (the null class index)');
      return tf.tidy(() => {
        const both = concatConditioning(cond, nullConditioning(cond, x.shape[0], nulls));
        const out = denoiser.predict(tf.concat([x, x]), tf.concat([t, t]), both);
        const [c, u] = tf.split(out, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
        let guided = tf.add(u, tf.mul(tf.sub(c, u), w)) as tf.Tensor4D;
        if (phi > 0) {
          const rescaled = tf.mul(guided, tf.div(stdPerSample(c), stdPerSample(guided)));
          guided = tf.add(tf.mul(rescaled, phi), tf.mul(guided, 1 - phi)) as tf.Tensor4D;
        }
        return guided;
      });
    },
  };
}
