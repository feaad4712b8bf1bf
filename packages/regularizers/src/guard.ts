import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';

/** Thrown when the loss or gradients stayed non-finite for too many steps in a row. */
export class NonFiniteError extends Error {
  constructor(readonly consecutive: number, readonly step: number, readonly what: string) {
    super(
      `training stopped: ${what} was not finite for ${consecutive} consecutive steps (last at step ${step}); ` +
        'lower the learning rate, enable gradient clipping, or raise maxConsecutiveNonFinite',
    );
    this.name = 'NonFiniteError';
  }
}

export interface NonFiniteGuard {
  /** True if the update may be applied; false to skip it. Throws NonFiniteError after `maxConsecutiveNonFinite` skips in a row. */
  check(values: { loss: number; gradNorm?: number }, step: number): boolean;
  /** Skipped updates in total, and in the current run of skips. */
  readonly skipped: number;
  readonly consecutive: number;
  state(): { skipped: number; consecutive: number };
  loadState(s: { skipped: number; consecutive: number }): void;
}

export interface NonFiniteGuardOptions {
  /** Skipped updates in a row before training stops with NonFiniteError. Default 5. */
  maxConsecutiveNonFinite?: number;
}

const GUARD_KEYS = optionKeys<NonFiniteGuardOptions>()(['maxConsecutiveNonFinite']);

/** Skips updates whose loss or gradient norm is NaN/±Inf, counts them, and gives up after a run of them. */
export function createNonFiniteGuard(opts: NonFiniteGuardOptions = {}): NonFiniteGuard {
  checkOptions('createNonFiniteGuard', opts, GUARD_KEYS);
  const max = opts.maxConsecutiveNonFinite ?? 5;
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(`createNonFiniteGuard: maxConsecutiveNonFinite must be a positive integer, got ${max}`);
  }
  let skipped = 0;
  let consecutive = 0;
  return {
    check({ loss, gradNorm }, step) {
      const bad = !Number.isFinite(loss) ? 'the loss' : gradNorm !== undefined && !Number.isFinite(gradNorm) ? 'the gradient norm' : null;
      if (!bad) {
        consecutive = 0;
        return true;
      }
      skipped += 1;
      consecutive += 1;
      if (consecutive >= max) throw new NonFiniteError(consecutive, step, bad);
      return false;
    },
    get skipped() {
      return skipped;
    },
    get consecutive() {
      return consecutive;
    },
    state: () => ({ skipped, consecutive }),
    loadState(s) {
      skipped = s.skipped;
      consecutive = s.consecutive;
    },
  };
}
