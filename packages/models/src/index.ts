export * from './config.js';
export { ParamModule } from './layers.js';
export * from './inputs.js';
export * from './unet.js';
export * from './groupNormKernel.js';
export * from './diffusers.js';
export {
  diffusersConfigOf, isDiffusersUNetConfig, minDiffusersVersion, unetConfigFromDiffusers, type DiffusersUNetConfig, type FromDiffusersOptions,
} from './diffusersConfig.js';
export * from './mlp.js';
export * from './safetensors.js';
export * from './io.js';
export * from './size.js';
