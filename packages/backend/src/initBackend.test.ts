import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initBackend } from './initBackend.js';
import { trainingKernelConfigs } from './registerTrainingKernels.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('initBackend', () => {
  it("'auto' skips the absent tfjs-node packages and picks wasm with the training kernels", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.threads).toBe(1);
    expect(info.kernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum']));
    // ours replace wasm's own (its Conv2DBackpropInput is slow)
    for (const c of trainingKernelConfigs) expect(tf.getKernel(c.kernelName, 'wasm')?.kernelFunc).toBe(c.kernelFunc);
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0]![0])).toContain("'wasm'");
  });

  it('prints nothing with quiet: true', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await initBackend({ quiet: true });
    expect(log).not.toHaveBeenCalled();
  });

  it("prefer: 'tfjs-node' throws, naming the missing package", async () => {
    await expect(initBackend({ prefer: 'tfjs-node', quiet: true })).rejects.toThrow(/'tfjs-node' cannot be met: @tensorflow\/tfjs-node could not be loaded/);
    await expect(initBackend({ prefer: 'tfjs-node-gpu', quiet: true })).rejects.toThrow(/@tensorflow\/tfjs-node-gpu could not be loaded/);
  });

  it('switches to cpu on request and back to wasm', async () => {
    expect(await initBackend({ prefer: 'cpu', quiet: true })).toEqual({ name: 'cpu', kernels: [], threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ prefer: 'wasm', quiet: true })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects bad options, naming the parameter and the accepted values', async () => {
    await expect(initBackend({ prefer: 'webgpu' as never })).rejects.toThrow("prefer must be one of 'auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'; got 'webgpu'");
    await expect(initBackend({ threads: 0 })).rejects.toThrow('threads must be a positive integer; got 0');
  });
});
