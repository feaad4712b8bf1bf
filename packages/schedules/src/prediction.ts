import { checkOneOf } from './check.js';

/** What a denoiser's output means: the noise ε, the velocity v = √ᾱ ε − √(1−ᾱ) x0, or the clean sample x0. */
export const PREDICTIONS = ['epsilon', 'v', 'sample'] as const;
export type Prediction = (typeof PREDICTIONS)[number];

/** `value` as a Prediction, or a RangeError naming `name` and the accepted values. */
export function checkPrediction(value: unknown, name = 'prediction'): Prediction {
  return checkOneOf(name, value, PREDICTIONS);
}
