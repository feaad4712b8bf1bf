export { autoOrder, describeBackend, initBackend } from './initBackend.js';
export type { BackendInfo, BackendPreference, InitBackendOptions, SkippedBackend } from './backendTypes.js';
export { planThreads, type ThreadPlan } from './threadPlan.js';
export {
  cpuKernelFixConfigs,
  registerCpuKernelFixes,
  registerTrainingKernels,
  trainingKernelConfigs,
} from './registerTrainingKernels.js';
export {
  conv2D,
  conv2DConfig,
  setWinogradTile,
  usesWinograd,
  type WasmHeapBackend,
  winogradConv3x3,
  type WinogradTile,
} from './kernels/Conv2D.js';
export {
  conv2DBackpropFilter,
  conv2DBackpropFilterConfig,
  conv2DBackpropFilterDilated,
  conv2DBackpropFilterIm2col,
  conv2DBackpropFilterWinograd,
  type FilterGradTile,
} from './kernels/Conv2DBackpropFilter.js';
export { conv2DBackpropInput, conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
export { unsortedSegmentSum, unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
export { identity, identityConfig } from './kernels/Identity.js';
export { cast, castConfig } from './kernels/Cast.js';
export { splitV, splitVConfig } from './kernels/SplitV.js';
export {
  resizeNearestNeighborGrad,
  resizeNearestNeighborGradCpuConfig,
} from './kernels/ResizeNearestNeighborGrad.js';
export {
  loadWasmKernels,
  useWasmVariant,
  type WasmKernels,
  wasmKernels,
  type WasmVariant,
} from './kernels/wasm/loader.js';
export { groupNormConfig, groupNormGradConfig } from './kernels/GroupNorm.js';
export { adamWConfig } from './kernels/AdamW.js';
