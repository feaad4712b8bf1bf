import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplica, type ToyBatch } from '../testing/toyReplica.js';
import { createDataParallel } from './dataParallel.js';
import type { DataParallel } from './types.js';

const MODULE = new URL('../testing/toyReplica.ts', import.meta.url).href;
const init = { seed: 3, channels: 4 };

function batch(n: number, seed: number): ToyBatch {
  const size = n * 6 * 6;
  const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + seed));
  const y = Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.11 + seed));
  return { x, y, shape: [n, 6, 6, 1] };
}
const slice = (b: ToyBatch, a: number, e: number): ToyBatch => ({
  x: b.x.slice(a * 36, e * 36), y: b.y.slice(a * 36, e * 36), shape: [e - a, 6, 6, 1],
});
function sgd(replica: ReturnType<typeof createReplica>, grads: Record<string, tf.Tensor>, lr: number) {
  for (const p of replica.parameters()) tf.tidy(() => p.variable.assign(tf.sub(p.variable, tf.mul(grads[p.name]!, lr))));
}

describe('createDataParallel', () => {
  let dp: DataParallel<ToyBatch>;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dp = await createDataParallel<typeof init, ToyBatch>({ module: MODULE, init, threads: 2 });
  });
  afterAll(async () => {
    await dp.dispose();
  });

  it('a two-thread step equals the single-thread step on the whole batch, uneven shards included', async () => {
    const local = createReplica(init);
    const single = createReplica(init);
    await dp.syncWeights(local);
    for (let s = 0; s < 3; s++) {
      const b = batch(7, s);
      const whole = single.lossAndGrads(b) as { loss: number; grads: Record<string, tf.Tensor> };
      const par = await dp.lossAndGrads(local, [slice(b, 0, 5), slice(b, 5, 7)], [5, 2]);
      expect(par.loss).toBeCloseTo(whole.loss, 5);
      for (const name of Object.keys(whole.grads)) {
        const want = whole.grads[name]!.dataSync();
        const got = par.grads[name]!.dataSync();
        for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
      }
      // The global norm of the averaged gradients, and the clip to a smaller one: a scale by clip / (norm + 1e-6).
      let sq = 0;
      for (const g of Object.values(whole.grads)) for (const x of g.dataSync()) sq += x * x;
      expect(par.norm).toBeCloseTo(Math.sqrt(sq), 5);
      const clip = Math.sqrt(sq) / 3;
      const c = await dp.lossAndGrads(local, [slice(b, 0, 5), slice(b, 5, 7)], [5, 2], { clipNorm: clip });
      expect(c.norm).toBe(par.norm);
      for (const name of Object.keys(whole.grads)) {
        const want = whole.grads[name]!.dataSync();
        c.grads[name]!.dataSync().forEach((g, i) => expect(g).toBeCloseTo((want[i]! * clip) / (par.norm! + 1e-6), 5));
      }
      tf.dispose(Object.values(c.grads));
      await expect(dp.lossAndGrads(local, [slice(b, 0, 5), slice(b, 5, 7)], [5, 2], { clipNorm: 0 })).rejects.toThrow(/clipNorm must be > 0; got 0/);
      sgd(single, whole.grads, 0.1);
      sgd(local, par.grads, 0.1);
      await dp.syncWeights(local);
      tf.dispose([...Object.values(whole.grads), ...Object.values(par.grads)]);
    }
    // After three updates the replicas still agree: the worker's half of a batch gives the same loss as here.
    const b = batch(4, 9);
    const here = local.lossAndGrads(slice(b, 2, 4)) as { loss: number; grads: Record<string, tf.Tensor> };
    const there = await dp.lossAndGrads(local, [slice(b, 2, 4), slice(b, 2, 4)], [0, 1]);
    expect(there.loss).toBeCloseTo(here.loss, 6);
    const w = single.parameters()[0]!.variable.dataSync();
    local.parameters()[0]!.variable.dataSync().forEach((v, i) => expect(v).toBeCloseTo(w[i]!, 6));
    tf.dispose([...Object.values(here.grads), ...Object.values(there.grads)]);
  });

  it('returns gradients of the parameters the local replica trains only (a frozen one gets none, and no tensor)', async () => {
    const full = createReplica(init);
    const frozen = full.parameters()[0]!.name;
    const local = {
      ...full,
      lossAndGrads(b: ToyBatch) {
        const r = full.lossAndGrads(b) as { loss: number; grads: Record<string, tf.Tensor> };
        r.grads[frozen]!.dispose();
        delete r.grads[frozen];
        return r;
      },
    };
    await dp.syncWeights(full);
    const b = batch(6, 1);
    const whole = full.lossAndGrads(b) as { loss: number; grads: Record<string, tf.Tensor> };
    const before = tf.memory().numTensors;
    const par = await dp.lossAndGrads(local, [slice(b, 0, 3), slice(b, 3, 6)], [3, 3]);
    expect(Object.keys(par.grads).sort()).toEqual(Object.keys(whole.grads).filter((n) => n !== frozen).sort());
    expect(tf.memory().numTensors - before).toBe(Object.keys(par.grads).length);
    // The norm is over the trained parameters alone.
    let sq = 0;
    for (const [n, g] of Object.entries(whole.grads)) if (n !== frozen) for (const x of g.dataSync()) sq += x * x;
    expect(par.norm).toBeCloseTo(Math.sqrt(sq), 5);
    tf.dispose([...Object.values(whole.grads), ...Object.values(par.grads)]);
    full.parameters().forEach((p) => p.variable.dispose());
  });

  it('leaks no tensors on the calling thread across 20 steps', async () => {
    const local = createReplica(init);
    const b = batch(4, 1);
    const run = async () => {
      const r = await dp.lossAndGrads(local, [slice(b, 0, 2), slice(b, 2, 4)], [2, 2]);
      sgd(local, r.grads, 0.01);
      tf.dispose(Object.values(r.grads));
      await dp.syncWeights(local);
    };
    await run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects with the worker's error message, and keeps working after it", async () => {
    const local = createReplica(init);
    const b = batch(2, 0);
    await expect(dp.lossAndGrads(local, [slice(b, 0, 1), { ...slice(b, 1, 2), fail: 'shard has NaN pixels' }], [1, 1])).rejects.toThrow(
      /worker 1: .*shard has NaN pixels/,
    );
    const ok = await dp.lossAndGrads(local, [slice(b, 0, 1), slice(b, 1, 2)], [1, 1]);
    expect(Number.isFinite(ok.loss)).toBe(true);
    tf.dispose(Object.values(ok.grads));
    await expect(dp.lossAndGrads(local, [b], [1])).rejects.toThrow(/one shard and one weight per replica \(2\)/);
  });

  it("callWorkers runs a replica method on the workers with this thread's weights, and passes its errors on", async () => {
    const local = createReplica({ ...init, seed: 8 });
    await dp.syncWeights(local);
    const b = batch(3, 4);
    const before = tf.memory().numTensors;
    const [there] = await dp.callWorkers<Float32Array>('predict', [b]);
    expect(there).toEqual(local.predict(b));
    expect(tf.memory().numTensors).toBe(before);
    await expect(dp.callWorkers('predict', [{ ...b, fail: 'no pixels' }])).rejects.toThrow(/worker 1: .*no pixels/);
    await expect(dp.callWorkers('nope', [b])).rejects.toThrow(/worker 1: .*has no method nope/);
    await expect(dp.callWorkers('predict', [b, b])).rejects.toThrow(/at most one argument per worker \(1\); got 2/);
    expect(await dp.callWorkers('predict', [])).toEqual([]);
    tf.dispose(local.parameters().map((p) => p.variable));
  });

  it('a replica module that cannot load fails creation with its reason', async () => {
    await expect(createDataParallel({ module: new URL('../testing/nope.ts', import.meta.url).href, init, threads: 2 })).rejects.toThrow(/worker 1: .*nope/);
    const solo = await createDataParallel<typeof init, ToyBatch>({ module: MODULE, init, threads: 1 });
    expect(solo.threads).toBe(1);
    await solo.dispose();
  });
});

describe("createDataParallel under tfjs-node's 'tensorflow' backend", () => {
  it('starts no worker threads, reports why, and steps in this thread', async () => {
    const { registerTensorflowStandIn } = await import('../testing/tensorflowStandIn.js');
    const remove = registerTensorflowStandIn();
    try {
      await tf.setBackend('tensorflow');
      // A module that cannot load would fail creation if any worker were started.
      const dp = await createDataParallel<typeof init, ToyBatch>({ module: new URL('../testing/nope.ts', import.meta.url).href, init, threads: 2 });
      expect(dp.threads).toBe(1);
      expect(dp.plan).toBe("threads: 2 requested; using TensorFlow's thread pool, no worker threads");
      const local = createReplica(init);
      const b = batch(3, 2);
      const want = local.lossAndGrads(b) as { loss: number; grads: Record<string, tf.Tensor> };
      const got = await dp.lossAndGrads(local, [b], [1]);
      expect(got.loss).toBeCloseTo(want.loss, 6);
      await dp.syncWeights(local);
      tf.dispose([...Object.values(want.grads), ...Object.values(got.grads)]);
      tf.dispose(local.parameters().map((p) => p.variable));
      await dp.dispose();
    } finally {
      remove();
      await tf.setBackend('cpu');
    }
  });
});
