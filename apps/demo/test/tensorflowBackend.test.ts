import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { registerTensorflowStandIn } from '@tfjs-diffusion/backend/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';

// Any worker thread started in this file fails the test: under tfjs-node there must be none.
vi.mock('node:worker_threads', async (orig) => ({
  ...(await orig<typeof import('node:worker_threads')>()),
  Worker: class {
    constructor() {
      throw new Error('a worker thread was started under the tensorflow backend');
    }
  },
}));

// tfjs-node cannot be installed here: a backend named 'tensorflow' over the wasm
// training kernels (the cpu ones take minutes per U-Net step) takes its place.
let remove = () => {};
beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
  remove = registerTensorflowStandIn({ delegate: 'wasm' });
});
afterAll(() => remove());

describe("demo on tfjs-node's 'tensorflow' backend", () => {
  it('trains with threads: 2 on TensorFlow\'s thread pool (no worker threads), says so, and samples', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
    const out = join(mkdtempSync(join(tmpdir(), 'demo-tf-')), 'run');
    try {
      const r = await trainCommand({
        out,
        overrides: {
          threads: 2, steps: 2, batchSize: 4, trainSize: 40, valSize: 8,
          'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
          'every.log': 1, 'every.validate': 2, 'every.sample': 2, 'every.checkpoint': 2,
          'sampler.steps': 2, 'sampler.cols': 1,
        },
      });
      expect(tf.getBackend()).toBe('tensorflow');
      expect(r.step).toBe(2);
      expect(lines.some((l) => l.startsWith("@tfjs-diffusion/backend: using 'tensorflow', TensorFlow's thread pool"))).toBe(true);
      expect(lines).toContain("threads: 2 requested; using TensorFlow's thread pool, no worker threads");
      const s = await sampleCommand({ checkpoint: out, steps: 2, classes: [1], n: 2, quiet: true });
      expect(existsSync(s.grid)).toBe(true);
    } finally {
      log.mockRestore();
    }
  });
});
