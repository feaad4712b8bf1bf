export * from './initBackend.js';
export * from './registerTrainingKernels.js';
export * from './kernels/Conv2DBackpropFilter.js';
export * from './kernels/Conv2DBackpropInput.js';
export * from './kernels/UnsortedSegmentSum.js';
