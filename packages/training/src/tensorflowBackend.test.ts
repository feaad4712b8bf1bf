import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { registerTensorflowStandIn } from '@tfjs-diffusion/backend/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Under tfjs-node no worker thread may start: any attempt fails the test.
vi.mock('node:worker_threads', async (orig) => ({
  ...(await orig<typeof import('node:worker_threads')>()),
  Worker: class {
    constructor() {
      throw new Error('a worker thread was started under the tensorflow backend');
    }
  },
}));

let remove = () => {};
beforeAll(async () => {
  remove = registerTensorflowStandIn();
  expect((await initBackend({ quiet: true })).name).toBe('tensorflow');
});
afterAll(() => remove());

describe("trainer on tfjs-node's 'tensorflow' backend", () => {
  it('parallel: { threads: 2 } runs in this thread and takes the same steps as no parallelism', async () => {
    const { MLPDenoiser } = await import('@tfjs-diffusion/models');
    const { makeSchedule } = await import('@tfjs-diffusion/schedules');
    const { createTrainer } = await import('./trainer.js');
    const { workerThreads } = await import('./workers.js');
    const { mixtureSource } = await import('./testing/toy.js');
    const make = (parallel?: { threads: number }) =>
      createTrainer({
        denoiser: new MLPDenoiser({ dim: 2, hidden: 16, layers: 1, numClasses: 2 }, { seed: 4 }),
        schedule: makeSchedule(),
        data: mixtureSource(7, 10),
        learningRate: 1e-2,
        seed: 11,
        parallel: parallel && workerThreads(parallel),
      });
    const single = await make();
    const par = await make({ threads: 2 });
    try {
      expect(tf.getBackend()).toBe('tensorflow');
      for (let s = 0; s < 3; s++) {
        const a = await single.trainStep();
        const b = await par.trainStep();
        expect(b.loss).toBeCloseTo(a.loss, 6);
      }
    } finally {
      await single.dispose();
      await par.dispose();
    }
  });
});
