export * from './config.js';
export { namePattern, ParamModule, type NamedParameter } from './layers.js';
export * from './unet.js';
export * from './diffusers.js';
export * from './mlp.js';
export * from './safetensors.js';
export * from './io.js';
