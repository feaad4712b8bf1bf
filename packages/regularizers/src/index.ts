export type { NamedParameter, TensorData } from './types.js';
export { matchesAny, type NamePattern, patternToRegExp } from './pattern.js';
export { dropout } from './dropout.js';
export { dropoutSchedule, type DropoutScheduleConfig } from './dropoutSchedule.js';
export { createEma, type Ema, EMA_OPTION_KEYS, type EmaOptions, type EmaState } from './ema.js';
export {
  type AdamW,
  ADAMW_OPTION_KEYS,
  type AdamWOptions,
  type AdamWState,
  createAdamW,
  type ParameterGroup,
} from './adamw.js';
export { ADAMW_KERNEL, type AdamWKernelAttrs, hasFusedAdamW } from './adamwKernel.js';
export { clipByGlobalNorm, clipScale, globalNorm } from './clip.js';
export {
  createNonFiniteGuard,
  NonFiniteError,
  type NonFiniteGuard,
  type NonFiniteGuardOptions,
} from './guard.js';
export {
  type AlphasCumprodSchedule,
  minSnrWeight,
  minSnrWeights,
  type MinSnrWeightsOptions,
} from './minSnr.js';
export { offsetNoise, perturbNoise } from './noise.js';
export { dropLabels, type DropLabelsOptions, dropMask, type DropMaskOptions } from './labels.js';
export {
  curriculumRange,
  type CurriculumRangeOptions,
  curriculumSubset,
  type CurriculumSubsetOptions,
  difficultyOrder,
  type TimestepSampler,
  timestepSampler,
  type TimestepSamplerConfig,
} from './curriculum.js';
