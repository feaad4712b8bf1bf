import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initBackend } from './initBackend.js';
import { trainingKernelConfigs } from './registerTrainingKernels.js';
import { registerTensorflowStandIn } from './testing/tensorflowStandIn.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('initBackend', () => {
  it("'auto' skips the absent tfjs-node packages, says why, and picks wasm with the training kernels", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.threads).toBe(1);
    expect(info.kernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum']));
    expect(info.skipped.map((s) => s.backend)).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    expect(info.skipped[1]!.reason).toMatch(/@tensorflow\/tfjs-node could not be loaded .*npm install @tensorflow\/tfjs-node/);
    // ours replace wasm's own (its Conv2DBackpropInput is slow)
    for (const c of trainingKernelConfigs) expect(tf.getKernel(c.kernelName, 'wasm')?.kernelFunc).toBe(c.kernelFunc);
    expect(log).toHaveBeenCalledTimes(1);
    const line = String(log.mock.calls[0]![0]);
    expect(line).toContain("using 'wasm'");
    expect(line).toContain('skipped tfjs-node-gpu: @tensorflow/tfjs-node-gpu could not be loaded');
  });

  it('prints nothing with quiet: true', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await initBackend({ quiet: true });
    expect(log).not.toHaveBeenCalled();
  });

  it("prefer: 'tfjs-node' throws, naming the missing package", async () => {
    await expect(initBackend({ prefer: 'tfjs-node', quiet: true })).rejects.toThrow(/'tfjs-node' cannot be met: @tensorflow\/tfjs-node could not be loaded/);
    await expect(initBackend({ prefer: 'tfjs-node-gpu', quiet: true })).rejects.toThrow(/@tensorflow\/tfjs-node-gpu could not be loaded/);
    await expect(initBackend({ prefer: 'tensorflow', quiet: true })).rejects.toThrow(
      /'tensorflow' cannot be met: @tensorflow\/tfjs-node-gpu could not be loaded.*; @tensorflow\/tfjs-node could not be loaded/,
    );
  });

  it('in Node, the browser backends are refused with a reason', async () => {
    await expect(initBackend({ prefer: 'webgpu', quiet: true })).rejects.toThrow("prefer: 'webgpu' cannot be met: navigator.gpu is undefined");
    await expect(initBackend({ prefer: 'webgl', quiet: true })).rejects.toThrow("prefer: 'webgl' cannot be met: no canvas");
  });

  it('switches to cpu on request and back to wasm', async () => {
    expect(await initBackend({ prefer: 'cpu', quiet: true })).toEqual({ name: 'cpu', kernels: ['ResizeNearestNeighborGrad'], threads: 1, skipped: [], notes: [] });
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ prefer: 'wasm', quiet: true })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it("takes a registered 'tensorflow' backend (tfjs-node's name) under 'auto' and when handed back tf.getBackend()", async () => {
    const remove = registerTensorflowStandIn();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const info = await initBackend({ threads: 3 });
      expect(info).toMatchObject({ name: 'tensorflow', kernels: [], threads: 3, skipped: [] });
      expect(tf.getBackend()).toBe('tensorflow');
      expect(String(log.mock.calls[0]![0])).toBe("@tfjs-diffusion/backend: using 'tensorflow', TensorFlow's thread pool, 3 threads");
      // What a worker does with the name its parent reports.
      expect((await initBackend({ prefer: tf.getBackend() as 'tensorflow', quiet: true })).name).toBe('tensorflow');
      // The stand-in computes: a conv's gradient through the cpu kernels.
      const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same')))(tf.ones([1, 3, 3, 1])).dataSync());
      expect(Array.from(g)).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
    } finally {
      remove();
    }
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
    await initBackend({ prefer: 'wasm', quiet: true });
  });

  it('rejects bad options, naming the parameter and the accepted values', async () => {
    await expect(initBackend({ prefer: 'gpu' as never })).rejects.toThrow(
      "prefer must be one of 'auto', 'tfjs-node-gpu', 'tfjs-node', 'tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'; got 'gpu'",
    );
    await expect(initBackend({ threads: 0 })).rejects.toThrow('threads must be a positive integer; got 0');
    await expect(initBackend({ wasmPaths: 3 as never })).rejects.toThrow('wasmPaths must be a URL prefix string or a map from .wasm file name to URL; got 3');
  });
});
