export {
  DOWN_BLOCK_TYPES,
  type DownBlockType,
  MID_BLOCK_TYPES,
  type MidBlockType,
  nearestName,
  resolveUNetConfig,
  type TimeScaleShift,
  uncheckedOptions,
  UNET_LIMITS,
  type UNetConfig,
  type UNetOptions,
  unetPreset,
  type UNetPresetName,
  UP_BLOCK_TYPES,
  type UpBlockType,
} from './config.js';
export { type ConvGeometry, type LayerHook, ParamModule } from './layers.js';
export { type LoraInfo, LoraAdapter, type LoraPair } from './lora/adapter.js';
export { addLora, loraAdapters, type LoraModel, type LoraOptions, loraTrainable } from './lora/add.js';
export { encodeLora, type EncodeLoraOptions, loadLora, type LoadLoraOptions } from './lora/file.js';
export { DEFAULT_LORA_TARGETS, type LoraModule, loraModules, type LoraTarget, matchesTarget } from './lora/modules.js';
export { type ConditionReads, MODEL_OPTION_KEYS, type ModelOptions, type PredictOptions } from './inputs.js';
export { UNet, unetParameterCount, unetParameterShapes } from './unet.js';
export {
  GROUP_NORM_GRAD_KERNEL,
  GROUP_NORM_KERNEL,
  type GroupNormAttrs,
  groupNormComposite,
  groupNormOp,
  hasFusedGroupNorm,
  registerGroupNormGradient,
} from './groupNormKernel.js';
export {
  diffusersNames,
  diffusersTensors,
  fromDiffusers,
  selectByEitherName,
  toDiffusers,
} from './diffusers.js';
export {
  diffusersConfigOf,
  type DiffusersUNetConfig,
  type FromDiffusersOptions,
  isDiffusersUNetConfig,
  minDiffusersVersion,
  unetConfigFromDiffusers,
} from './diffusersConfig.js';
export { type MLPConfig, MLPDenoiser, type MLPOptions, resolveMLPConfig } from './mlp.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './safetensors.js';
export {
  createModel,
  loadWeights,
  type LoadWeightsOptions,
  type Model,
  type ModelConfig,
  modelConfigOf,
  type ModelConfigJson,
  modelTensors,
} from './io.js';
export {
  checkModelFits,
  type CheckModelFitsOptions,
  estimateModelBytes,
  type MemoryLimit,
  type SizeEstimate,
  WASM_HEAP_LIMIT,
} from './size.js';
export {
  type BatchEncodeOptions,
  CLIP_TOKENIZER_KEYS,
  clipTokenizer,
  type ClipTokenizer,
  type ClipTokenizerOptions,
  END_OF_TEXT,
  START_OF_TEXT,
} from './text/clipTokenizer.js';
export {
  CLIP_TEXT_ACTIVATIONS,
  CLIP_TEXT_OPTION_KEYS,
  type ClipTextActivation,
  type ClipTextConfig,
  clipTextConfigFromTransformers,
  clipTextConfigToTransformers,
  type ClipTextOptions,
  resolveClipTextConfig,
} from './text/clipConfig.js';
export { ClipTextEncoder, type ClipTextEncoderOptions, clipTextParameterCount, clipTextParameterShapes } from './text/clipTextEncoder.js';
export { fromTransformers, type FromTransformersOptions, toTransformers, transformersName } from './text/transformers.js';
export { PROMPT_ENCODER_KEYS, promptEncoder, type PromptEncoder, type PromptEncoderOptions } from './text/prompts.js';
export {
  TEXT_CONDITIONED_KEYS,
  TEXT_ENCODER_PREFIX,
  textConditioned,
  type TextConditionedDenoiser,
  type TextConditionedOptions,
  type TextReadingDenoiser,
} from './text/textConditioned.js';
