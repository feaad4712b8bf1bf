import { checkOptions, checkPrediction, optionKeys, type Prediction } from '@tfjs-diffusion/schedules';

/** The part of a NoiseSchedule (schedules package) this needs. */
export interface AlphasCumprodSchedule { numTrainTimesteps: number; alphasCumprod: ArrayLike<number> }


/**
 * Min-SNR-γ loss weight (Hang et al. 2023, "Efficient Diffusion Training via
 * Min-SNR Weighting Strategy") for one timestep's SNR = ᾱ/(1−ᾱ), expressed
 * for the loss on each prediction target: ε: min(SNR, γ)/SNR,
 * v: min(SNR, γ)/(SNR + 1), x0: min(SNR, γ).
 */
export function minSnrWeight(snr: number, gamma: number, prediction: Prediction): number {
  if (!(gamma > 0)) throw new RangeError(`minSnrWeight: gamma must be > 0, got ${gamma}`);
  const clipped = Math.min(snr, gamma);
  switch (prediction) {
    case 'epsilon':
      return snr === 0 ? 0 : clipped / snr;
    case 'v':
      return clipped / (snr + 1);
    case 'sample':
      return clipped;
    case 'flow':
      throw new Error("minSnrWeight: prediction 'flow' has no min-SNR weighting here (flow matching weights by σ: the trainer's flow weighting)");
    default:
      checkPrediction(prediction, 'minSnrWeight: prediction');
      throw new Error('unreachable');
  }
}

export interface MinSnrWeightsOptions {
  /** γ (default 5, as the paper). */
  gamma?: number;
  prediction: Prediction;
}

const MIN_SNR_KEYS = optionKeys<MinSnrWeightsOptions>()(['gamma', 'prediction']);

/** Min-SNR-γ weights for integer training timesteps of `schedule`. */
export function minSnrWeights(
  schedule: AlphasCumprodSchedule,
  timesteps: ArrayLike<number>,
  opts: MinSnrWeightsOptions,
): Float32Array {
  checkOptions('minSnrWeights', opts, MIN_SNR_KEYS);
  const gamma = opts.gamma ?? 5;
  const out = new Float32Array(timesteps.length);
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    if (!Number.isInteger(t) || t < 0 || t >= schedule.numTrainTimesteps) {
      throw new RangeError(`minSnrWeights: timesteps must be integers in [0, ${schedule.numTrainTimesteps - 1}], got ${t}`);
    }
    const a = schedule.alphasCumprod[t];
    out[i] = minSnrWeight(a / (1 - a), gamma, opts.prediction);
  }
  return out;
}
