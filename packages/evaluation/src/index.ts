export * from './types.js';
export * from './empiricalDenoiser.js';
export * from './smoothedEmpiricalDenoiser.js';
export * from './nearestNeighbours.js';
export * from './memorization.js';
export * from './frechetDistance.js';
export * from './distanceReport.js';
export * from './classifier.js';
