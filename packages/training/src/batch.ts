// Per-step random draws, batch preparation, and micro-batching.
import * as tf from '@tensorflow/tfjs';
import {
  dropMask,
  dropoutSchedule,
  minSnrWeights,
  offsetNoise,
  perturbNoise,
  timestepSampler,
  type NamedParameter,
  type TimestepSampler,
} from '@tfjs-diffusion/regularizers';
import { conditioningFromHost, conditioningToHostSync, dropConditioning, type HostConditioning } from '@tfjs-diffusion/samplers';
import type { NoiseSchedule, Prediction, Rng } from '@tfjs-diffusion/schedules';
import { flowDensitySample, flowLossWeights, flowTrainingSigmas } from './flowObjective.js';
import { labelsArray } from './labels.js';
import { disposePrepared, lossAndGrads, plainToPrepared, slicePlain, type PlainBatch, type PreparedBatch } from './loss.js';
import type { ResolvedOptions } from './options.js';
import type { Batch, TrainableDenoiser } from './types.js';

/** A batch's condition on the host: `cond`'s fields, with `labels` as its classLabels. */
export function batchCondition(batch: Pick<Batch, 'labels' | 'cond'>): HostConditioning | undefined {
  const host = conditioningToHostSync(batch.cond) ?? {};
  const labels = labelsArray(batch.labels);
  if (labels) {
    if (host.classLabels) throw new Error('batch: give class labels as labels or as cond.classLabels, not both');
    host.classLabels = { data: labels, shape: [labels.length] };
  }
  return Object.keys(host).length > 0 ? host : undefined;
}

/** Turns a batch into a prepared one, drawing everything random from `rng` in a fixed order. */
export type PrepareBatch = (batch: Batch, step: number) => PreparedBatch;

export function createBatchPreparer(schedule: NoiseSchedule, o: ResolvedOptions, rng: Rng): PrepareBatch {
  const { reg, prediction } = o;
  const sampleT: TimestepSampler =
    typeof reg.timestepSampler === 'function'
      ? reg.timestepSampler
      : timestepSampler(reg.timestepSampler ?? { kind: 'uniform', numTrainTimesteps: o.numTrainTimesteps });
  const dropoutRateAt = reg.dropout !== undefined ? dropoutSchedule(reg.dropout) : undefined;
  const alphasCumprod = Float32Array.from(schedule.alphasCumprod);
  return (batch, step) => {
    const x0 = batch.images;
    const n = x0.shape[0];
    // The order of draws is part of the checkpoint format: a resumed run draws the same numbers.
    const flow = o.flow;
    const sigmas = flow ? flowTrainingSigmas(flowDensitySample(flow, n, rng), o.numTrainTimesteps, flow.shift) : undefined;
    const ts = sigmas ? Array.from(sigmas, (s) => s * o.numTrainTimesteps) : sampleT(step, n, rng);
    const noiseSeed = rng.nextSeed();
    const offsetSeed = reg.offsetNoise ? rng.nextSeed() : 0;
    const perturbSeed = reg.inputPerturbation ? rng.nextSeed() : 0;
    let cond = batchCondition(batch);
    if (cond && reg.pUncond) cond = dropConditioning(cond, dropMask(n, { pUncond: reg.pUncond, rng }), o.nulls);
    const dropoutSeed = rng.nextSeed();
    const weights = flow ? flowLossWeights(flow.weighting, sigmas!) : reg.minSnrGamma ? minSnrWeights(schedule, ts, { gamma: reg.minSnrGamma, prediction }) : new Float32Array(n).fill(1);
    return tf.tidy(() => {
      let noise = tf.randomNormal(x0.shape, 0, 1, 'float32', noiseSeed) as tf.Tensor4D;
      if (reg.offsetNoise) noise = offsetNoise(noise, reg.offsetNoise, offsetSeed);
      const inputNoise = reg.inputPerturbation ? perturbNoise(noise, reg.inputPerturbation, perturbSeed) : noise;
      return {
        x0: tf.clone(x0),
        noise,
        inputNoise,
        t: tf.tensor1d(Float32Array.from(ts), 'float32'),
        alphaCumprod: sigmas ? tf.ones([n]) as tf.Tensor1D : tf.tensor1d(Float32Array.from(ts, (t) => alphasCumprod[t]!), 'float32'),
        ...(sigmas && { sigma: tf.tensor1d(Float32Array.from(sigmas), 'float32') }),
        weights: tf.tensor1d(weights, 'float32'),
        cond: conditioningFromHost(cond),
        dropoutSeed,
        dropoutRate: dropoutRateAt?.(step),
      };
    });
  };
}

/** A prepared batch as plain arrays (for slicing and for worker threads). */
export function toPlain(b: PreparedBatch): PlainBatch {
  return {
    shape: b.x0.shape,
    images: b.x0.dataSync() as Float32Array,
    noise: b.noise.dataSync() as Float32Array,
    inputNoise: b.inputNoise !== b.noise ? (b.inputNoise.dataSync() as Float32Array) : undefined,
    t: b.sigma ? Float32Array.from(b.t.dataSync()) : Int32Array.from(b.t.dataSync()),
    alphaCumprod: b.alphaCumprod.dataSync() as Float32Array,
    ...(b.sigma && { sigma: b.sigma.dataSync() as Float32Array }),
    weights: b.weights.dataSync() as Float32Array,
    cond: conditioningToHostSync(b.cond),
    dropoutSeed: b.dropoutSeed,
    dropoutRate: b.dropoutRate,
  };
}

/**
 * Loss and gradients of a batch in slices of at most `microBatch` rows (a
 * wasm instance has a 4 GiB heap): the slice-size-weighted mean of slice
 * losses and gradients is the whole batch's. Slice i gets dropout seed + i.
 */
export function microBatchLossAndGrads(
  denoiser: TrainableDenoiser,
  prediction: Prediction,
  trainable: readonly NamedParameter[],
  plain: PlainBatch,
  microBatch: number,
): { loss: number; grads: Record<string, tf.Tensor> } {
  const n = plain.shape[0];
  let loss = 0;
  let grads: Record<string, tf.Tensor> | undefined;
  try {
    for (let start = 0, i = 0; start < n; start += microBatch, i++) {
      const end = Math.min(n, start + microBatch);
      const part = plainToPrepared({ ...slicePlain(plain, start, end), dropoutSeed: (plain.dropoutSeed + i) | 0 });
      try {
        const r = lossAndGrads(denoiser, prediction, trainable, part);
        const w = (end - start) / n;
        loss += w * r.loss.dataSync()[0]!;
        r.loss.dispose();
        const prev = grads;
        grads = tf.tidy(() => Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [k, prev ? tf.add(prev[k]!, tf.mul(g, w)) : tf.mul(g, w)])));
        tf.dispose([...Object.values(r.grads), ...(prev ? Object.values(prev) : [])]);
      } finally {
        disposePrepared(part);
      }
    }
  } catch (e) {
    if (grads) tf.dispose(Object.values(grads));
    throw e;
  }
  return { loss, grads: grads! };
}
