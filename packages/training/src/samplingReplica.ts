// The replica module of the parallel sampler (`createParallelSampler` in ./parallelSampler.ts):
// each worker thread imports this file, rebuilds the model from its config and samples rows of a batch.
// `sampleRequest` is also the main entry's, for a page's own workers: nothing here may need Node.
import * as tf from '@tensorflow/tfjs';
import { createModel } from '@tfjs-diffusion/models';
import type { NamedParameter } from '@tfjs-diffusion/regularizers';
import {
  conditioningFromHost, disposeConditioning, sample, samplerFromSpec, x0ProcessorFromSpec,
  type Denoiser, type FactorySpec, type GuidanceOptions, type HostConditioning, type HostTensor,
} from '@tfjs-diffusion/samplers';
import type { NoiseSchedule } from '@tfjs-diffusion/schedules';

/** One `sample()` call described as data: what every thread gets, `rows` apart. */
export interface RowsRequest {
  sampler: FactorySpec;
  schedule: NoiseSchedule;
  shape?: [number, number, number, number];
  numInferenceSteps: number;
  seed?: number;
  /** The whole batch's condition, every field (`conditioningToHost`). */
  cond?: HostConditioning;
  guidance?: GuidanceOptions;
  x0Processor?: FactorySpec;
  checkFinite?: boolean;
  strength?: number;
  initImage?: HostTensor;
  noise?: HostTensor;
  rows: [number, number];
}

/** The worker's model: its config with `kind` (as `createModel` takes it). */
export interface SamplingReplicaInit {
  model: { kind: string } & Record<string, unknown>;
}

const toTensor = (h: HostTensor | undefined) => (h ? tf.tensor(h.data, h.shape, 'float32') : undefined);

/**
 * Runs `request` (its rows) on `denoiser` in this thread and returns the rows' samples on the host:
 * what a worker thread or a page's web worker does with the `sample()` call another thread described.
 */
export async function sampleRequest(denoiser: Denoiser, request: RowsRequest): Promise<HostTensor> {
  const cond = conditioningFromHost(request.cond);
  const initImage = toTensor(request.initImage) as tf.Tensor4D | undefined;
  const noise = toTensor(request.noise) as tf.Tensor4D | undefined;
  try {
    const out = await sample(denoiser, samplerFromSpec(request.sampler), {
      schedule: request.schedule,
      shape: request.shape,
      numInferenceSteps: request.numInferenceSteps,
      seed: request.seed,
      cond,
      guidance: request.guidance,
      x0Processor: request.x0Processor ? x0ProcessorFromSpec(request.x0Processor) : undefined,
      checkFinite: request.checkFinite,
      strength: request.strength,
      initImage,
      noise,
      rows: request.rows,
    });
    try {
      return { data: (await out.samples.data()) as Float32Array, shape: out.samples.shape.slice() };
    } finally {
      out.samples.dispose();
    }
  } finally {
    disposeConditioning(cond);
    tf.dispose([initImage, noise].filter((t) => t !== undefined));
  }
}

/** The replica module's entry: the model rebuilt by `createModel(config)` (weights arrive by `syncWeights`). */
export function createReplica(init: SamplingReplicaInit) {
  const model = createModel(init.model);
  return {
    parameters: (): NamedParameter[] => model.parameters(),
    sampleRows: (request: RowsRequest): Promise<HostTensor> => sampleRequest(model, request),
  };
}
