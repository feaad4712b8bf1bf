export type { Batch, BatchSource, TrainableDenoiser, ValidationSet } from './types.js';
export { addNoise, flowNoise, predictionTarget } from './targets.js';
export {
  FLOW_DENSITIES,
  FLOW_OBJECTIVE_KEYS,
  FLOW_WEIGHTINGS,
  type FlowDensity,
  flowDensitySample,
  flowLossWeights,
  type FlowObjectiveOptions,
  flowTrainingSigmas,
  type FlowWeighting,
  resolveFlowObjective,
  type ResolvedFlowObjective,
} from './flowObjective.js';
export { LEARNING_RATE_KEYS, learningRateAt, type LearningRateConfig } from './lrSchedule.js';
export { checkSetting, describeSetting, parseSetting, SETTING_RANGES, type SettingName, type SettingRange } from './settingRanges.js';
export { diffusionLoss, lossAndGrads, type PlainBatch, type PreparedBatch } from './loss.js';
export {
  checkTrainerOptions,
  DEFAULT_NO_DECAY,
  type FineTuneOptions,
  type RegularizerOptions,
  type ResolvedOptions,
  resolveOptions,
  TRAINER_OPTION_KEYS,
  type TrainerOptions,
} from './options.js';
export { loadFineTuneWeights, partitionParameters } from './freeze.js';
export { createOptimization, type Optimization } from './optimization.js';
export { batchCondition, createBatchPreparer, microBatchLossAndGrads, type PrepareBatch } from './batch.js';
export {
  applyGradients,
  type BatchGradients,
  batchGradients,
  type StepContext,
  type TrainStepResult,
} from './step.js';
export {
  createValidation,
  type EvaluateResult,
  type RemoteValidation,
  type Validation,
  VALIDATION_KEYS,
  type ValidationData,
  type ValidationItem,
  type ValidationOptions,
} from './validation.js';
export { fit, FIT_KEYS } from './fit.js';
export type { FitOptions, FitResult, Metrics, StepEvent, Trainer } from './fitTypes.js';
export {
  type Checkpoint,
  CHECKPOINT_STATE,
  CHECKPOINT_VERSION,
  CHECKPOINT_WEIGHTS,
  type CheckpointFiles,
  type CheckpointState,
  decodeCheckpoint,
  encodeCheckpoint,
  type TensorMap,
} from './checkpoint.js';
export {
  type InferenceWeights,
  inferenceWeights,
  type InferenceWeightsOptions,
  type WeightsSource,
} from './weights.js';
export {
  type FolderFiles,
  folderOfFiles,
  hasFile,
  joinFolderPath,
  normalizeFolderPath,
  readJsonFile,
} from './folder.js';
export {
  CHECKPOINT_LATEST,
  CHECKPOINT_NAME,
  CHECKPOINTS_DIR,
  findCheckpointIn,
  readCheckpointAt,
} from './checkpointFolder.js';
export {
  DIFFUSERS_CONFIG,
  DIFFUSERS_SCHEDULER,
  DIFFUSERS_SCHEDULER_PATHS,
  DIFFUSERS_WEIGHTS,
  type DiffusersScheduler,
  readDiffusersFolder,
  readDiffusersScheduler,
} from './diffusersFolder.js';
export {
  encodeModelFolder,
  loadFolderWeights,
  loadModelFolder,
  MODEL_CONFIG,
  MODEL_WEIGHTS,
  type ModelFolder,
  modelFromFolder,
  READ_WEIGHTS_KEYS,
  readModelFolder,
  type ReadWeightsOptions,
} from './modelFolder.js';
export {
  type ParallelRunner,
  type ReplicaInit,
  replicaOf,
  shardRanges,
  type StartParallel,
} from './replica.js';
export { type RowsRequest, sampleRequest } from './samplingReplica.js';
export { createTrainer, type TrainerObjective } from './trainer.js';
export {
  createDistiller,
  DISTILL_WEIGHTINGS,
  DISTILLER_KEYS,
  type DistillerOptions,
  type DistillStep,
  distillSteps,
  type DistillTarget,
  distillTarget,
  type DistillTeacher,
  type DistillWeighting,
  distillWeights,
} from './distill.js';
export {
  distill,
  type DistillOptions,
  type DistillResult,
  type DistillRound,
  halvingGuidance,
} from './progressive.js';
