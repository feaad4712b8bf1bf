/** The page's in-tab trainer in Node: it runs on fit, the stop button's signal stops it at a step, and a new run continues to the target. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInTabTrainer, type RunConfig } from '../src/training.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(app, 'public', 'models', 'mnist-tiny', 'config.json'), 'utf8')) as RunConfig;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('createInTabTrainer', () => {
  it('the stop signal stops training at a step boundary; train() again goes on to the target; the live plot gets every loss', async () => {
    const count = 32;
    const digits = { count, height: 28, width: 28, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), pixels: Uint8Array.from({ length: count * 784 }, (_, i) => (i * 37) % 256) };
    const before = tf.memory().numTensors;
    const t = await createInTabTrainer(config, digits, { steps: 5, batchSize: 4, lr: 1e-3, seed: 1 });
    try {
      const stop = new AbortController();
      const seen: number[] = [];
      const r = await t.train({ signal: stop.signal, onStep: (e) => { seen.push(e.step); if (e.step === 2) stop.abort(); } });
      expect(r.stopped).toBe(true);
      expect(seen).toEqual([1, 2]);
      expect(t.trainer.step).toBe(2);
      const r2 = await t.train({ onStep: (e) => { seen.push(e.step); } });
      expect(r2.stopped).toBe(false);
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(t.losses).toHaveLength(5);
      expect(t.losses.every(Number.isFinite)).toBe(true);
    } finally {
      await t.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
