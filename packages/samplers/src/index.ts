export {
  checkConditioning,
  concatConditioning,
  type Conditioning,
  CONDITIONING_FIELDS,
  type ConditioningField,
  conditioningFields,
  conditioningFromHost,
  type ConditioningNulls,
  conditioningToHost,
  conditioningToHostSync,
  disposeConditioning,
  dropConditioning,
  gatherConditioning,
  type HostConditioning,
  type HostTensor,
  nullConditioning,
  sliceConditioning,
  sliceHostConditioning,
} from './conditioning.js';
export type {
  Denoiser,
  FactorySpec,
  Sampler,
  SamplerBaseOptions,
  StepArgs,
  StepResult,
  X0Processor,
} from './types.js';
export { SamplerState } from './state.js';
export {
  ancestralStep,
  epsilonFromX0,
  predictEpsilon,
  predictX0,
  toD,
  toDdpmScale,
  toSigmaScale,
} from './formulas.js';
export {
  dpmPlan,
  eulerPlan,
  type FinalSigmas,
  type Plan,
  type SigmaPlanOptions,
  type SpacingOptions,
} from './grids.js';
export { clip } from './clip.js';
export { dynamicThreshold, type DynamicThresholdOptions } from './dynamic-threshold.js';
export { ddpm, ddpmEntry, type DdpmOptions, type DdpmVariance } from './ddpm.js';
export { ddim, ddimEntry, type DdimOptions } from './ddim.js';
export { euler, type EulerOptions } from './euler.js';
export { eulerAncestral, eulerAncestralEntry, type EulerAncestralOptions } from './euler-ancestral.js';
export { heun, heunEntry, type HeunOptions } from './heun.js';
export { dpmSolverEntry, type DpmSolverOptions, dpmSolverPlusPlus2M } from './dpm-solver.js';
export { pndm, type PndmOptions } from './pndm.js';
export { lms, type LmsOptions } from './lms.js';
export { uniPC, type UniPCOptions } from './unipc.js';
export { flowMatchEuler, flowMatchEulerEntry, type FlowMatchEulerOptions } from './flow-match-euler.js';
export { flowMatchHeun, flowMatchHeunEntry, type FlowMatchHeunOptions } from './flow-match-heun.js';
export { flowScale, fromFlowScale, toFlowScale } from './flow-match.js';
export { classifierFreeGuidance, GUIDANCE_OPTION_KEYS, type GuidanceOptions } from './guidance.js';
export { ensemble } from './ensemble.js';
export { checkFlowPair, runNoiseLevels, type SamplingRun, type SamplingRunOptions, startRun } from './run.js';
export { sample, type SampleOptions, type SampleOutput } from './sample.js';
export {
  type DiffusersSchedulerName,
  fromDiffusersConfig,
  type FromDiffusersConfigOptions,
  type FromDiffusersConfigResult,
  SUPPORTED_DIFFUSERS_SCHEDULERS,
} from './from-diffusers-config.js';
export { describeSampler, describeX0Processor, samplerFromSpec, x0ProcessorFromSpec } from './spec.js';
export {
  createSampler,
  findSampler,
  SAMPLER_NAMES,
  SAMPLER_REGISTRY,
  samplerEntry,
  type SamplerName,
  samplerTakes,
} from './registry.js';
export {
  defineSampler,
  type DiffusersClass,
  type DiffusersConfigReader,
  type SamplerEntry,
  type SamplerOption,
} from './entry.js';
