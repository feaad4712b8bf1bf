import { checkOptions, optionKeys, type Rng } from '@tfjs-diffusion/schedules';

export interface DropLabelsOptions {
  /** Probability of the null class (default 0.1). */
  pUncond?: number;
  nullClass: number;
  rng: Rng;
}

const DROP_LABELS_KEYS = optionKeys<DropLabelsOptions>()(['pUncond', 'nullClass', 'rng']);

/**
 * Classifier-free guidance training (Ho & Salimans 2022): each label becomes
 * the null class with probability `pUncond`, so one model learns both the
 * conditional and the unconditional prediction. Returns a new array.
 */
export function dropLabels(
  labels: ArrayLike<number>,
  opts: DropLabelsOptions,
): Int32Array {
  checkOptions('dropLabels', opts, DROP_LABELS_KEYS);
  const p = opts.pUncond ?? 0.1;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropLabels: pUncond must be in [0, 1], got ${p}`);
  if (!Number.isInteger(opts.nullClass) || opts.nullClass < 0) {
    throw new RangeError(`dropLabels: nullClass must be a non-negative integer, got ${opts.nullClass}`);
  }
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = opts.rng.next() < p ? opts.nullClass : labels[i];
  return out;
}
