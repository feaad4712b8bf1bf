// The replica module for data-parallel training: each worker thread imports
// this file, rebuilds the model from its config and computes the trainer's loss.
import { replicaOf, type ReplicaInit } from './parallel.js';
import type { TrainableDenoiser } from './types.js';

export async function createReplica(init: ReplicaInit) {
  const models: Record<string, unknown> = await import('@tfjs-diffusion/models');
  const ctor = (init.model.kind === 'mlp' ? models.MLPDenoiser : models.UNet) as
    | (new (config: unknown) => TrainableDenoiser)
    | undefined;
  if (typeof ctor !== 'function') {
    throw new Error(`createReplica: @tfjs-diffusion/models has no ${init.model.kind === 'mlp' ? 'MLPDenoiser' : 'UNet'}`);
  }
  const denoiser = new ctor(init.model.config);
  if (denoiser.prediction !== init.prediction) {
    throw new Error(`createReplica: the rebuilt model predicts '${denoiser.prediction}', the trainer '${init.prediction}'`);
  }
  return replicaOf(denoiser, init.prediction, init.freeze ?? []);
}
