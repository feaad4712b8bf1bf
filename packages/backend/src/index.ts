export * from './initBackend.js';
export * from './registerTrainingKernels.js';
export * from './kernels/Conv2DBackpropFilter.js';
export * from './kernels/Conv2DBackpropInput.js';
export * from './kernels/UnsortedSegmentSum.js';
export * from './kernels/Identity.js';
export * from './kernels/Cast.js';
export * from './kernels/SplitV.js';
