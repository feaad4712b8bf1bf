import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';

export interface LearningRateConfig {
  schedule?: 'constant' | 'cosine';
  /** Peak learning rate. */
  peak: number;
  /** Linear warm-up from 0 over this many steps. Default 0. */
  warmupSteps?: number;
  /** Needed by 'cosine': the step where the rate reaches 0. */
  totalSteps?: number;
}

export const LEARNING_RATE_KEYS = optionKeys<LearningRateConfig>()(['schedule', 'peak', 'warmupSteps', 'totalSteps']);

/**
 * Learning rate for the update at `step` (0 for the first update), as diffusers'
 * get_constant_schedule_with_warmup / get_cosine_schedule_with_warmup:
 * peak·step/warmup during warm-up, then constant or peak·½(1 + cos(π·progress)).
 */
export function learningRateAt(step: number, config: LearningRateConfig): number {
  checkOptions('learningRateAt', config, LEARNING_RATE_KEYS);
  const schedule = config.schedule ?? 'constant';
  const warmup = config.warmupSteps ?? 0;
  if (!(config.peak >= 0)) throw new RangeError(`learningRate.peak must be >= 0, got ${config.peak}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`learningRate.warmupSteps must be a non-negative integer, got ${warmup}`);
  if (step < warmup) return (config.peak * step) / Math.max(1, warmup);
  if (schedule === 'constant') return config.peak;
  if (schedule === 'cosine') {
    const total = config.totalSteps;
    if (!(typeof total === 'number' && total > warmup)) {
      throw new RangeError(`learningRate.totalSteps must be a number > warmupSteps (${warmup}) for the cosine schedule, got ${total}`);
    }
    const progress = (step - warmup) / Math.max(1, total - warmup);
    return config.peak * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
  throw new RangeError(`learningRate.schedule must be one of 'constant', 'cosine'; got '${String(schedule)}'`);
}
