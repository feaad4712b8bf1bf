import { checkOptions, optionKeys, type Rng } from '@tfjs-diffusion/schedules';

export interface DropLabelsOptions {
  /** Probability of the null class (default 0.1). */
  pUncond?: number;
  nullClass: number;
  rng: Rng;
}

const DROP_LABELS_KEYS = optionKeys<DropLabelsOptions>()(['pUncond', 'nullClass', 'rng']);

/**
 * Condition dropout's draw (Ho & Salimans 2022): row i is dropped (its condition replaced by the
 * null one) with probability `pUncond`, one `rng.next()` per row in order. Label dropout and
 * diffusers' `proportion_empty_prompts` are this one draw applied to different fields.
 */
export interface DropMaskOptions {
  pUncond?: number;
  rng: Rng;
}

const DROP_MASK_KEYS = optionKeys<DropMaskOptions>()(['pUncond', 'rng']);

export function dropMask(n: number, opts: DropMaskOptions): boolean[] {
  checkOptions('dropMask', opts, DROP_MASK_KEYS);
  const p = opts.pUncond ?? 0.1;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropMask: pUncond must be in [0, 1], got ${p}`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`dropMask: n must be a non-negative integer, got ${n}`);
  return Array.from({ length: n }, () => opts.rng.next() < p);
}

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
  const drop = dropMask(labels.length, { pUncond: p, rng: opts.rng });
  return Int32Array.from(drop, (d, i) => (d ? opts.nullClass : labels[i]!));
}
