export { checkSeed, createRng, MAX_SEED, offsetSeed, type Rng, type RngState } from './rng.js';
export { checkPrediction, type Prediction, PREDICTIONS } from './prediction.js';
export {
  BETA_SCHEDULES,
  type BetaSchedule,
  cosineBetas,
  linspace,
  makeSchedule,
  MAX_TRAIN_TIMESTEPS,
  type NoiseSchedule,
  rescaleZeroTerminalSnr,
  SCHEDULE_CONFIG_KEYS,
  type ScheduleConfig,
} from './schedule.js';
export {
  checkTimestepSpacing,
  roundHalfEven,
  TIMESTEP_SPACINGS,
  timesteps,
  TIMESTEPS_OPTION_KEYS,
  type TimestepsOptions,
  type TimestepSpacing,
} from './timesteps.js';
export {
  alphaCumprodAt,
  alphaCumprodToSigma,
  type Interpolation,
  type InterpolationOptions,
  INTERPOLATIONS,
  logSnr,
  sigmaAt,
  sigmas,
  sigmaToAlphaCumprod,
  sigmaToTimestep,
  snr,
} from './sigmas.js';
export { exponentialSigmas, karrasSigmas } from './karras.js';
export {
  calculateShift,
  type CalculateShiftOptions,
  FLOW_SIGMAS_OPTION_KEYS,
  flowSigmas,
  type FlowPlan,
  flowSigmaToAlphaCumprod,
  type FlowSigmasOptions,
  shiftSigma,
  TIME_SHIFT_TYPES,
  timeShift,
  type TimeShiftType,
} from './flow.js';
export { betaCdf, betaPpf } from './beta-ppf.js';
export {
  DIFFUSERS_SCHEDULE_DEFAULTS,
  parseDiffusersConfig,
  scheduleFromDiffusersConfig,
  type ScheduleFromDiffusersConfigResult,
} from './diffusers-config.js';
export { checkOptions, editDistance, nearestOption, optionKeys } from './options.js';
export { checkNesting, showList, showValue } from './show.js';
