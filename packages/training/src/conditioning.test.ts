import * as tf from '@tensorflow/tfjs';
import { ddim, disposeConditioning, sample, type Conditioning } from '@tfjs-diffusion/samplers';
import { createRng, makeSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchPreparer, toPlain } from './batch.js';
import { disposePrepared, slicePlain } from './loss.js';
import { resolveOptions } from './options.js';
import { replicaOf, shardRanges } from './replica.js';
import { sampleRequest } from './samplingReplica.js';
import { ToyDenoiser } from './testing/toy.js';

const L = 2;
const D = 3;

// The toy plus a text term: out += s · Σ encoderHiddenStates (per row), s a trained scalar.
class TextToy extends ToyDenoiser {
  readonly textScale = tf.variable(tf.scalar(0.5), true);
  override parameters() {
    return [...super.parameters(), { name: 'text.scale', variable: this.textScale }];
  }
  override predict(x: tf.Tensor4D, t: tf.Tensor1D, cond?: Conditioning): tf.Tensor4D {
    return tf.tidy(() => {
      const out = super.predict(x, t, cond);
      const e = cond?.encoderHiddenStates;
      return (e ? tf.add(out, tf.mul(tf.reshape(tf.sum(e, [1, 2]), [-1, 1, 1, 1]), this.textScale)) : out) as tf.Tensor4D;
    });
  }
  override dispose(): void {
    super.dispose();
    this.textScale.dispose();
  }
}

const text = (n: number) => tf.tensor3d(Float32Array.from({ length: n * L * D }, (_, i) => Math.cos(i) + 1.5), [n, L, D]);

describe('a second condition field through training batches and replicas', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('condition dropout nulls every field of the same rows, with the draws label dropout made', () => {
    const schedule = makeSchedule({ numTrainTimesteps: 100 });
    const d = new TextToy('epsilon', 1);
    const o = resolveOptions({ denoiser: d, schedule, data: { next: () => ({ images: tf.zeros([1, 1, 1, 2]) }) }, regularizers: { pUncond: 0.5 } });
    const n = 16;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const before = tf.memory().numTensors;
    const images = tf.zeros([n, 1, 1, 2]) as tf.Tensor4D;
    const e = text(n);
    const withText = createBatchPreparer(schedule, o, createRng(3))({ images, labels, cond: { encoderHiddenStates: e } }, 0);
    const labelsOnly = createBatchPreparer(schedule, o, createRng(3))({ images, labels }, 0);
    const ids = Array.from(withText.cond!.classLabels!.dataSync());
    expect(ids).toEqual(Array.from(labelsOnly.cond!.classLabels!.dataSync()));
    expect(ids.includes(2) && ids.some((c) => c !== 2)).toBe(true);
    const abs = tf.tidy(() => tf.sum(tf.abs(withText.cond!.encoderHiddenStates!), [1, 2]));
    const sums = Array.from(abs.dataSync());
    abs.dispose();
    sums.forEach((s, i) => (ids[i] === 2 ? expect(s).toBe(0) : expect(s).toBeGreaterThan(0)));
    const plain = toPlain(withText);
    expect(plain.cond!.encoderHiddenStates!.shape).toEqual([n, L, D]);
    disposePrepared(withText);
    disposePrepared(labelsOnly);
    tf.dispose([images, e]);
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
  });

  it('a sharded batch gives the whole batch loss and gradients, the text field included', () => {
    const d = new TextToy('v', 1);
    const n = 6;
    const rnd = (k: number, s: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(i * 12.9898 + s) * 1.3);
    const e = text(n);
    const batch = {
      shape: [n, 1, 1, 2] as [number, number, number, number],
      images: rnd(2 * n, 1),
      noise: rnd(2 * n, 2),
      t: Int32Array.from({ length: n }, (_, i) => i * 9),
      alphaCumprod: Float32Array.from({ length: n }, (_, i) => 0.95 - i * 0.09),
      weights: Float32Array.from({ length: n }, () => 1),
      cond: { classLabels: { data: Int32Array.from({ length: n }, (_, i) => i % 3), shape: [n] }, encoderHiddenStates: { data: e.dataSync() as Float32Array, shape: e.shape } },
      dropoutSeed: 5,
    };
    const r = replicaOf(d, 'v');
    const whole = r.lossAndGrads(batch);
    const without = r.lossAndGrads({ ...batch, cond: { classLabels: batch.cond.classLabels } });
    expect(Math.abs(whole.loss - without.loss)).toBeGreaterThan(1e-3);
    const parts = shardRanges(n, 2).map(([a, b]) => ({ w: (b - a) / n, ...r.lossAndGrads(structuredClone(slicePlain(batch, a, b))) }));
    expect(parts.reduce((s, p) => s + p.w * p.loss, 0)).toBeCloseTo(whole.loss, 5);
    const g = parts.reduce((s, p) => s + p.w * p.grads['text.scale']!.dataSync()[0]!, 0);
    expect(g).toBeCloseTo(whole.grads['text.scale']!.dataSync()[0]!, 4);
    expect(Math.abs(g)).toBeGreaterThan(0);
    tf.dispose([whole.grads, without.grads, ...parts.map((p) => p.grads), e]);
    d.dispose();
  });

  it('a sampling replica gets every field of the request and samples the rows sample() would', async () => {
    const schedule = makeSchedule({ numTrainTimesteps: 100 });
    const d = new TextToy('epsilon', 2);
    const cond = { classLabels: tf.tensor1d([0, 1, 1], 'int32'), encoderHiddenStates: text(3) };
    const opts = { schedule, shape: [3, 1, 1, 2] as [number, number, number, number], numInferenceSteps: 3, seed: 9, guidance: { guidanceScale: 2, nullClass: 2 } };
    const before = tf.memory().numTensors;
    const all = await sample(d, ddim(), { ...opts, cond });
    const host = {
      classLabels: { data: Int32Array.from([0, 1, 1]), shape: [3] },
      encoderHiddenStates: { data: cond.encoderHiddenStates.dataSync() as Float32Array, shape: [3, L, D] },
    };
    const rows = await sampleRequest(d, structuredClone({ sampler: { factory: 'ddim', options: {} }, ...opts, cond: host, rows: [1, 3] as [number, number] }));
    expect(Array.from(rows.data)).toEqual(Array.from(all.samples.dataSync()).slice(2));
    const textless = await sampleRequest(d, { sampler: { factory: 'ddim', options: {} }, ...opts, cond: { classLabels: host.classLabels }, rows: [1, 3] });
    expect(Array.from(textless.data)).not.toEqual(Array.from(rows.data));
    all.samples.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeConditioning(cond);
    d.dispose();
  });
});
