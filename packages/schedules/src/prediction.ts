import { checkOneOf } from './check.js';

/**
 * What a denoiser's output means: the noise ε, the velocity v = √ᾱ ε − √(1−ᾱ) x0, the clean sample x0,
 * or the flow-matching velocity ε − x0 of x_σ = (1 − σ) x0 + σ ε (diffusers' `flow_prediction`).
 */
export const PREDICTIONS = ['epsilon', 'v', 'sample', 'flow'] as const;
export type Prediction = (typeof PREDICTIONS)[number];

/** `value` as a Prediction, or a RangeError naming `name` and the accepted values. */
export function checkPrediction(value: unknown, name = 'prediction'): Prediction {
  return checkOneOf(name, value, PREDICTIONS);
}
