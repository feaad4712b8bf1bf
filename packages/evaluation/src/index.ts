export type { ImageSet } from './types.js';
export { EmpiricalDenoiser, type EmpiricalDenoiserOptions } from './empiricalDenoiser.js';
export {
  SmoothedEmpiricalDenoiser,
  type SmoothedEmpiricalDenoiserOptions,
} from './smoothedEmpiricalDenoiser.js';
export {
  nearestNeighbours,
  NEIGHBOUR_OPTION_KEYS,
  type NeighbourOptions,
  type Neighbours,
} from './nearestNeighbours.js';
export { type MemorizationOptions, memorizationRate, type MemorizationReport } from './memorization.js';
export { featureStatistics, frechetDistance, frechetDistanceFromStatistics } from './frechetDistance.js';
export {
  type DistanceReport,
  distanceReport,
  type DistanceReportOptions,
  distanceReportSeries,
  type DistanceSummary,
  quantile,
} from './distanceReport.js';
export {
  type CachedClassifier,
  classAccuracy,
  Classifier,
  type ClassifierCache,
  type ClassifierConfig,
  type ClassifierDataset,
  type LabeledSet,
  type TrainClassifierOptions,
} from './classifier.js';
export { trainClassifier } from './trainClassifier.js';
export {
  classifierDataset,
  type ClassifierDatasetOptions,
  type LabeledHostSet,
} from './classifierDataset.js';
export { type NeighbourGrid, neighbourGrid, type NeighbourGridOptions } from './neighbourGrid.js';
