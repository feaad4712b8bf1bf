import { availableParallelism } from 'node:os';
import { SAMPLER_NAMES, type SamplerName } from '@tfjs-diffusion/samplers';
import type { BetaSchedule, Prediction } from '@tfjs-diffusion/schedules';
export type DatasetName = 'mnist' | 'fashion-mnist' | 'emoji-google' | 'emoji-twitter' | 'emoji-facebook' | 'folder';
export type { SamplerName };
export type Threshold = 'dynamic' | 'clip' | 'none';
/** The σ plan of the samplers that take one: their grid's own, Karras or exponential (diffusers' `use_karras_sigmas`, `use_exponential_sigmas`). */
export type SigmaPlan = 'default' | 'karras' | 'exponential';

export const DATASETS: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'emoji-google', 'emoji-twitter', 'emoji-facebook', 'folder'];
/** The samplers package's registry names. */
export const SAMPLERS: readonly SamplerName[] = SAMPLER_NAMES;
export const THRESHOLDS: readonly Threshold[] = ['dynamic', 'clip', 'none'];
export const SIGMA_PLANS: readonly SigmaPlan[] = ['default', 'karras', 'exponential'];

/** Everything a run needs; written to the run folder as config.json. */
export interface DemoConfig {
  preset: string;
  dataset: DatasetName;
  /** The image folder of dataset 'folder' (Hugging Face's imagefolder layout), absolute. */
  dataDir?: string;
  /** Pixel size of folder and emoji images (folders: shorter side resized, then cropped; emoji: 32 or 64). */
  resolution?: number;
  /** Crop a folder's images at the centre (diffusers' --center_crop); else a seeded random window. */
  centerCrop?: boolean;
  /** Mirror training images left-right half the time, anew each epoch (diffusers' --random_flip). */
  randomFlip?: boolean;
  /** Training images used (the first n after a seeded shuffle); 0 = all. */
  trainSize: number;
  valSize: number;
  model: {
    /** A models-package U-Net preset. */
    preset: 'mnist-tiny' | 'mnist-ref';
    /** Partial UNetConfig applied on top of the preset (e.g. smaller channels). */
    overrides: Record<string, unknown>;
  };
  classConditional: boolean;
  prediction: Prediction;
  schedule: {
    numTrainTimesteps: number;
    betaSchedule: BetaSchedule;
    betaStart: number;
    betaEnd: number;
    rescaleBetasZeroSnr: boolean;
  };
  steps: number;
  batchSize: number;
  lr: number;
  lrSchedule: 'constant' | 'cosine';
  warmupSteps: number;
  regularizers: {
    /** EMA decay; 0 turns EMA off. */
    ema: number;
    dropout: number;
    weightDecay: number;
    clipGradNorm: number;
    minSnrGamma: number;
    offsetNoise: number;
    inputPerturbation: number;
    /** Label dropout for classifier-free guidance. */
    pUncond: number;
  };
  /** Random translation of training images by up to this many pixels. */
  augmentShift: number;
  every: { log: number; validate: number; sample: number; checkpoint: number };
  sampler: {
    name: SamplerName;
    steps: number;
    guidance: number;
    guidanceRescale: number;
    threshold: Threshold;
    eta: number;
    /** σ plan of the samplers that take one; absent in runs made before it existed ('default'). */
    sigmas?: SigmaPlan;
    /** Samples per row of the grid (per class with a class-conditional model). */
    cols: number;
  };
  seed: number;
  /** Worker threads for data parallelism (1 = none). */
  threads: number;
}

const base: DemoConfig = {
  preset: 'mnist-tiny',
  dataset: 'mnist',
  trainSize: 0,
  valSize: 256,
  // 8 time features and a 32-wide embedding (UNet2DModel's block_out_channels[0] and 4× it): the run exports for diffusers 0.13 and later.
  model: { preset: 'mnist-tiny', overrides: { timeFeatureDim: 8, embedDim: 32 } },
  classConditional: true,
  prediction: 'v',
  schedule: { numTrainTimesteps: 1000, betaSchedule: 'squaredcos_cap_v2', betaStart: 0.0001, betaEnd: 0.02, rescaleBetasZeroSnr: false },
  steps: 900,
  batchSize: 32,
  lr: 4e-3,
  lrSchedule: 'cosine',
  warmupSteps: 50,
  regularizers: { ema: 0.995, dropout: 0, weightDecay: 0.01, clipGradNorm: 1, minSnrGamma: 0, offsetNoise: 0, inputPerturbation: 0, pUncond: 0.1 },
  augmentShift: 0,
  every: { log: 10, validate: 450, sample: 450, checkpoint: 450 },
  sampler: { name: 'ddim', steps: 25, guidance: 3, guidanceRescale: 0, threshold: 'none', eta: 0, sigmas: 'default', cols: 8 },
  seed: 0,
  threads: Math.min(2, availableParallelism()),
};

const mnist: DemoConfig = {
  ...base,
  preset: 'mnist',
  valSize: 512,
  model: { preset: 'mnist-ref', overrides: {} },
  steps: 1250,
  batchSize: 32,
  lr: 2e-3,
  warmupSteps: 100,
  regularizers: { ...base.regularizers, ema: 0.999, dropout: 0.1 },
  augmentShift: 1,
  every: { log: 10, validate: 250, sample: 250, checkpoint: 50 },
  sampler: { ...base.sampler, steps: 50, guidance: 3 },
};

// 32×32 RGB emoji by category: a U-Net with diffusers' embedding widths (time features = first level, embedding = 4×), so the run exports.
const emojiTiny: DemoConfig = {
  ...base,
  preset: 'emoji-tiny',
  dataset: 'emoji-google',
  resolution: 32,
  randomFlip: false,
  valSize: 128,
  model: { preset: 'mnist-tiny', overrides: { blockOutChannels: [32, 64, 64], layersPerBlock: 1, normNumGroups: 8, timeFeatureDim: 32, embedDim: 128 } },
  steps: 800,
  batchSize: 32,
  lr: 2e-3,
  warmupSteps: 50,
  regularizers: { ...base.regularizers, ema: 0.995 },
  every: { log: 10, validate: 400, sample: 400, checkpoint: 100 },
  sampler: { ...base.sampler, steps: 25, guidance: 3, cols: 8 },
};

const emoji: DemoConfig = {
  ...emojiTiny,
  preset: 'emoji',
  model: { preset: 'mnist-ref', overrides: { blockOutChannels: [48, 96, 96], layersPerBlock: 2, attentionResolutions: [8], timeFeatureDim: 48, embedDim: 192, dropout: 0 } },
  steps: 1500,
  lr: 1e-3,
  warmupSteps: 100,
  regularizers: { ...emojiTiny.regularizers, ema: 0.998 },
  every: { log: 10, validate: 750, sample: 750, checkpoint: 100 },
  sampler: { ...emojiTiny.sampler, steps: 50 },
};

export const PRESETS: Record<string, DemoConfig> = {
  /** A real run that finishes in a few minutes on two cores. */
  'mnist-tiny': base,
  /** The reference U-Net: class-conditional, EMA, dropout, AdamW, augmentation. */
  mnist,
  /** The same recipe on Fashion-MNIST. */
  'fashion-mnist': { ...mnist, preset: 'fashion-mnist', dataset: 'fashion-mnist' },
  /** 32×32 Google emoji, class-conditional on their 9 categories: about 10 minutes on two idle cores. */
  'emoji-tiny': emojiTiny,
  /** The same at a larger U-Net (attention at 8×8) for about an hour. */
  emoji,
};

export function presetConfig(name: string): DemoConfig {
  const p = PRESETS[name];
  if (!p) throw new Error(`preset must be one of ${Object.keys(PRESETS).map((k) => `'${k}'`).join(', ')}; got '${name}'`);
  return structuredClone(p);
}
