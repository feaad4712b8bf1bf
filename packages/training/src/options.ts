// The trainer's options and their checks: everything is validated here,
// before any tensor is made or any weight is touched.
import {
  ADAMW_OPTION_KEYS,
  EMA_OPTION_KEYS,
  type AdamWOptions,
  type DropoutScheduleConfig,
  type EmaOptions,
  type NamePattern,
  type TimestepSampler,
  type TimestepSamplerConfig,
} from '@tfjs-diffusion/regularizers';
import { LEARNING_RATE_KEYS, learningRateAt, type LearningRateConfig } from './lrSchedule.js';
import type { StartParallel } from './replica.js';
import { checkOptions, checkPrediction, optionKeys, type NoiseSchedule, type Prediction } from '@tfjs-diffusion/schedules';
import type { BatchSource, TrainableDenoiser } from './types.js';
import type { ConditioningNulls } from '@tfjs-diffusion/samplers';
import { VALIDATION_KEYS, type ValidationOptions } from './validation.js';
import type { TensorMap } from './checkpoint.js';
import { FLOW_OBJECTIVE_KEYS, resolveFlowObjective, type FlowObjectiveOptions, type ResolvedFlowObjective } from './flowObjective.js';

export interface RegularizerOptions {
  /** EMA of the weights; `true` for diffusers' defaults. */
  ema?: EmaOptions | boolean;
  /** Clip gradients to this global L2 norm. */
  clipGradNorm?: number;
  /** Min-SNR-γ loss weighting (γ = 5 in the paper). */
  minSnrGamma?: number;
  /** Offset-noise strength. */
  offsetNoise?: number;
  /** Input-perturbation γ (0.1 in the paper). */
  inputPerturbation?: number;
  /** Classifier-free guidance: probability of replacing a label by the null class. */
  pUncond?: number;
  /** The null class index; defaults to the model's `config.numClasses`. */
  nullClass?: number;
  /**
   * The null value of the other condition fields for `pUncond` (caption dropout): e.g. the empty
   * prompt's `encoderHiddenStates` row (`promptEncoder(...).nulls()`). Default the denoiser's
   * `conditionNulls` (a `textConditioned` model: the empty prompt's `inputIds`), else 0 embeddings.
   */
  nulls?: Omit<ConditioningNulls, 'classLabels'>;
  /** Weight decay λ (AdamW: decoupled; see `decayMode`). Default 0.01. */
  weightDecay?: number;
  decayMode?: 'decoupled' | 'l2';
  /** Names that get no weight decay. Default ['*.bias', '*norm*', '*Norm*', '*embed*', '*Embed*']. */
  noDecay?: NamePattern[];
  /** Dropout rate for the model's predict (`dropoutRate`), constant or following a schedule over steps. */
  dropout?: DropoutScheduleConfig | number;
  /** How training timesteps are drawn. Default uniform over [0, numTrainTimesteps). */
  timestepSampler?: TimestepSamplerConfig | TimestepSampler;
  /** Stop after this many non-finite steps in a row. Default 5. */
  maxConsecutiveNonFinite?: number;
}

export interface FineTuneOptions {
  /**
   * Weights by parameter name to start from, for example
   * `(await readModelWeights(path)).tensors` from `@tfjs-diffusion/training/node`.
   */
  weights: TensorMap;
  /** Load only the parameters whose name matches (default all). */
  include?: NamePattern[];
  /** Parameters kept fixed (added to the trainer's `freeze`). */
  freeze?: NamePattern[];
}

export interface TrainerOptions {
  denoiser: TrainableDenoiser;
  schedule: NoiseSchedule;
  /** Must equal the denoiser's; defaults to it. 'flow' trains flow matching (see `flow`). */
  prediction?: Prediction;
  /** The flow-matching objective's σ density, loss weighting and shift (prediction 'flow' only; defaults apply then). */
  flow?: FlowObjectiveOptions;
  data: BatchSource;
  validation?: ValidationOptions;
  /** AdamW settings other than the learning rate and decay (those come from `learningRate` and `regularizers`). */
  optimizer?: Omit<AdamWOptions, 'learningRate' | 'weightDecay' | 'decayMode' | 'noDecay'>;
  regularizers?: RegularizerOptions;
  /** A number for a constant rate. Default 1e-3. */
  learningRate?: LearningRateConfig | number;
  /** Parameters kept fixed (name patterns); parameters whose variable is not trainable are fixed too. */
  freeze?: NamePattern[];
  fineTune?: FineTuneOptions;
  seed?: number;
  /** Data parallelism, e.g. `workerThreads({ threads: 2 })` from `@tfjs-diffusion/training/node`. */
  parallel?: StartParallel;
  /**
   * Compute a step in slices of at most this many examples and average them
   * (same result, less memory). Default 32: one wasm instance cannot hold the
   * reference U-Net's training step at batch 64.
   */
  microBatch?: number;
}

/** The options after defaults and checks. */
export interface ResolvedOptions {
  prediction: Prediction;
  /** With prediction 'flow'. */
  flow: ResolvedFlowObjective | undefined;
  numTrainTimesteps: number;
  learningRate: LearningRateConfig;
  seed: number;
  reg: RegularizerOptions;
  /** freeze and fineTune.freeze together. */
  freeze: NamePattern[];
  nullClass: number | undefined;
  /** Each condition field's null value for condition dropout (nullClass as classLabels'). */
  nulls: ConditioningNulls;
  microBatch: number;
}

export const TRAINER_OPTION_KEYS = optionKeys<TrainerOptions>()([
  'denoiser', 'schedule', 'prediction', 'flow', 'data', 'validation', 'optimizer', 'regularizers', 'learningRate', 'freeze', 'fineTune',
  'seed', 'parallel', 'microBatch',
]);
const REGULARIZER_KEYS = optionKeys<RegularizerOptions>()([
  'ema', 'clipGradNorm', 'minSnrGamma', 'offsetNoise', 'inputPerturbation', 'pUncond', 'nullClass', 'nulls', 'weightDecay', 'decayMode',
  'noDecay', 'dropout', 'timestepSampler', 'maxConsecutiveNonFinite',
]);
const FINE_TUNE_KEYS = optionKeys<FineTuneOptions>()(['weights', 'include', 'freeze']);
const OPTIMIZER_KEYS = ADAMW_OPTION_KEYS.filter((k) => !['learningRate', 'weightDecay', 'decayMode', 'noDecay'].includes(k));

/** The trainer's options and the nested ones checked for unknown keys, errors naming `where`. */
export function checkTrainerOptions(where: string, options: object, keys: readonly string[] = TRAINER_OPTION_KEYS): void {
  const o = options as TrainerOptions;
  checkOptions(where, o, keys);
  checkOptions(where, o.regularizers, REGULARIZER_KEYS, 'regularizers');
  checkOptions(where, o.flow, FLOW_OBJECTIVE_KEYS, 'flow');
  if (typeof o.regularizers?.ema === 'object') checkOptions(where, o.regularizers.ema, EMA_OPTION_KEYS, 'regularizers.ema');
  checkOptions(where, o.optimizer, OPTIMIZER_KEYS, 'optimizer');
  if (typeof o.learningRate === 'object') checkOptions(where, o.learningRate, LEARNING_RATE_KEYS, 'learningRate');
  checkOptions(where, o.fineTune, FINE_TUNE_KEYS, 'fineTune');
  checkOptions(where, o.validation, VALIDATION_KEYS, 'validation');
}

export const DEFAULT_NO_DECAY: NamePattern[] = ['*.bias', '*norm*', '*Norm*', '*embed*', '*Embed*'];

/** Checks every option and fills in defaults; the error names the option and what is accepted. */
export function resolveOptions(options: TrainerOptions): ResolvedOptions {
  checkTrainerOptions('createTrainer', options);
  const { denoiser, schedule } = options;
  const prediction = checkPrediction(options.prediction ?? denoiser.prediction);
  if (prediction !== denoiser.prediction) {
    throw new Error(`createTrainer: prediction '${prediction}' differs from the denoiser's '${denoiser.prediction}'`);
  }
  const reg = options.regularizers ?? {};
  const flow = prediction === 'flow' ? resolveFlowObjective(options.flow, 'createTrainer') : undefined;
  if (!flow && options.flow !== undefined) throw new Error(`createTrainer: flow options are for prediction 'flow'; the denoiser predicts '${prediction}'`);
  if (flow) {
    for (const k of ['minSnrGamma', 'timestepSampler'] as const) {
      if (reg[k] !== undefined) throw new Error(`createTrainer: regularizers.${k} does not apply to prediction 'flow'; flow matching draws σ by flow.density and weights by flow.weighting`);
    }
  }
  const learningRate: LearningRateConfig =
    typeof options.learningRate === 'number' ? { peak: options.learningRate } : options.learningRate ?? { peak: 1e-3 };
  learningRateAt(0, learningRate); // validates
  if (!Number.isFinite(learningRate.peak)) throw new RangeError(`createTrainer: learningRate must be a finite number >= 0; got ${learningRate.peak}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`createTrainer: seed must be an integer; got ${seed}`);
  const nullClass = reg.nullClass ?? denoiser.config?.numClasses ?? undefined;
  if (reg.pUncond !== undefined && !(reg.pUncond >= 0 && reg.pUncond <= 1)) {
    throw new RangeError(`regularizers.pUncond must be in [0, 1]; got ${reg.pUncond}`);
  }
  const fieldNulls = { ...denoiser.conditionNulls, ...reg.nulls };
  if (reg.pUncond !== undefined && reg.pUncond > 0 && nullClass === undefined && Object.keys(fieldNulls).length === 0) {
    throw new Error('createTrainer: regularizers.pUncond needs regularizers.nullClass or a model config with numClasses');
  }
  for (const [k, v] of [['clipGradNorm', reg.clipGradNorm], ['minSnrGamma', reg.minSnrGamma]] as const) {
    if (v !== undefined && !(v > 0)) throw new RangeError(`regularizers.${k} must be > 0, got ${v}`);
  }
  const microBatch = options.microBatch ?? 32;
  if (!Number.isInteger(microBatch) || microBatch < 1) throw new RangeError(`createTrainer: microBatch must be a positive integer; got ${options.microBatch}`);
  if (options.fineTune && (typeof options.fineTune.weights !== 'object' || options.fineTune.weights === null)) {
    throw new TypeError('createTrainer: fineTune.weights must be tensors by parameter name ({ shape, data })');
  }
  return {
    prediction,
    flow,
    numTrainTimesteps: schedule.numTrainTimesteps,
    learningRate,
    seed,
    reg,
    freeze: [...(options.freeze ?? []), ...(options.fineTune?.freeze ?? [])],
    nullClass,
    nulls: { ...fieldNulls, ...(nullClass !== undefined && { classLabels: nullClass }) },
    microBatch,
  };
}
