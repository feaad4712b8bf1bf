import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  checkModelFits, createModel, encodeSafetensors, estimateModelBytes, fromDiffusers, loadWeights, MLPDenoiser, UNet, unetPreset, WASM_HEAP_LIMIT,
} from './index.js';
import { ParamStore } from './layers.js';
import { loadModel } from './node.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const time = <T>(f: () => T): [T | Error, number] => {
  const t0 = performance.now();
  try {
    return [f(), performance.now() - t0];
  } catch (e) {
    return [e as Error, performance.now() - t0];
  }
};

describe('model sizes, checked from the config before anything is allocated', () => {
  it('counts the parameters the built U-Net and MLP have', () => {
    for (const cfg of [unetPreset('mnist-tiny'), unetPreset('mnist-ref')]) {
      const m = new UNet(cfg);
      expect(estimateModelBytes(cfg)).toEqual({ parameters: m.numParameters(), bytes: 4 * m.numParameters() });
      m.dispose();
    }
    for (const o of [{ dim: 2, hidden: 16, layers: 2 }, { dim: 5, hidden: 8, layers: 1, numClasses: 3, timeConditioning: false }]) {
      const m = new MLPDenoiser(o);
      expect(estimateModelBytes({ kind: 'mlp', ...o }).parameters).toBe(m.numParameters());
      m.dispose();
    }
    // Training keeps 5 copies of the weights (gradients, two AdamW moments, EMA) and twice the activations.
    const cfg = unetPreset('mnist-tiny');
    const one = estimateModelBytes(cfg, { batch: 1 }).bytes - estimateModelBytes(cfg).bytes;
    expect(estimateModelBytes(cfg, { batch: 8, training: true }).bytes).toBe(5 * estimateModelBytes(cfg).bytes + 16 * one);
  });

  it.each([
    ['blockOutChannels [4096]', { blockOutChannels: [4096], normNumGroups: 8 }],
    ['blockOutChannels [65536]', { blockOutChannels: [65536], normNumGroups: 8, embedDim: 64, timeFeatureDim: 64 }],
    ['numClasses 2^24', { ...unetPreset('mnist-tiny'), numClasses: 2 ** 24 }],
    ['an MLP of hidden 2^20', { kind: 'mlp', dim: 2, hidden: 2 ** 20 }],
  ])('createModel refuses %s in milliseconds, naming the estimate and the limit, with no tensor made', (_, cfg) => {
    const before = tf.memory().numTensors;
    const [e, ms] = time(() => createModel(cfg as never));
    expect(e).toBeInstanceOf(RangeError);
    expect((e as Error).message).toMatch(/^createModel: building this (U-Net|MLP) \([\d,]+ parameters, .*\) needs about [\d.]+ GB, more than the wasm backend's 4 GiB heap per instance \(4\.3 GB\); use a smaller model$/);
    expect(ms).toBeLessThan(1000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a caller names its own limit and the batch; a model that fits is returned with its estimate', () => {
    const cfg = unetPreset('mnist-tiny');
    const limit = { bytes: 1e6, what: 'this tab\'s 1 MB' };
    expect(checkModelFits(cfg).parameters).toBe(estimateModelBytes(cfg).parameters);
    expect(() => checkModelFits(cfg, { batch: 64, limit, what: '?n=64' })).toThrow(/^\?n=64: sampling this U-Net .* on 64 images at once needs about [\d.]+ GB, more than this tab's 1 MB \(0\.001 GB\); use a smaller model or batch$/);
    expect(() => createModel(unetPreset('mnist-ref') as never, { memoryLimit: limit })).toThrow(/more than this tab's 1 MB/);
    expect(WASM_HEAP_LIMIT.bytes).toBe(2 ** 32);
  });

  it('createModel and loadModel refuse a config that is not an object with a message, not a TypeError from inside', async () => {
    expect(() => createModel(null as never)).toThrow(/^createModel: config must be an object of model options; got null$/);
    expect(() => createModel([] as never)).toThrow(/got an array/);
    const dir = mkdtempSync(join(tmpdir(), 'model-null-'));
    writeFileSync(join(dir, 'config.json'), 'null');
    await expect(loadModel(dir)).rejects.toThrow(`loadModel: ${join(dir, 'config.json')}: must be a JSON object; got null`);
  });

  it('loadModel refuses a hostile config.json before building the network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-huge-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ kind: 'unet', blockOutChannels: [4096], normNumGroups: 8 }));
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors({}));
    const before = tf.memory().numTensors;
    await expect(loadModel(dir)).rejects.toThrow(/needs about 14\.2 GB, more than the wasm backend's 4 GiB heap/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fromDiffusers refuses num_class_embeds 2^24 + 1 from the config, before reading the weights', () => {
    const [e, ms] = time(() => fromDiffusers({
      _class_name: 'UNet2DModel', sample_size: 32, in_channels: 3, out_channels: 3, block_out_channels: [64, 128], layers_per_block: 1,
      down_block_types: ['DownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'UpBlock2D'], num_class_embeds: 2 ** 24 + 1,
    }, new Uint8Array(0), { source: 'hostile/' }));
    expect((e as Error).message).toMatch(/^fromDiffusers \(hostile\/\): config\.json: building this U-Net \(.*16,777,216 classes\) needs about [\d.]+ GB/);
    expect(ms).toBeLessThan(1000);
  });

  it('a U-Net whose allocation fails part-way frees the parameters it had made', () => {
    const create = ParamStore.prototype.create;
    let calls = 0;
    const spy = vi.spyOn(ParamStore.prototype, 'create').mockImplementation(function (this: ParamStore, ...a) {
      if (++calls === 20) throw new RangeError('Invalid typed array length: 4294967297');
      return create.apply(this, a);
    });
    const before = tf.memory().numTensors;
    try {
      expect(() => new UNet(unetPreset('mnist-tiny'))).toThrow('Invalid typed array length');
    } finally {
      spy.mockRestore();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('hostile files give short messages', () => {
  it('an unknown key holding a huge array, a huge sampleSize and 200,000 unexpected tensors are quoted in a few hundred characters', () => {
    const huge = Array.from({ length: 1_000_000 }, () => 123456789);
    for (const cfg of [{ channelz: huge }, { sampleSize: huge }, { ['k'.repeat(5e6)]: 1 }, { blockOutChannels: [8, 'x'.repeat(1e6)] }]) {
      const [e, ms] = time(() => createModel(cfg as never));
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message.length, (e as Error).message.slice(0, 300)).toBeLessThan(1000);
      expect(ms).toBeLessThan(1000);
    }
    const m = new UNet({ ...unetPreset('mnist-tiny'), numClasses: null });
    const tensors = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`extra.${i}`, { shape: [1], data: [0] }]));
    const e = time(() => loadWeights(m, tensors))[0] as Error;
    expect(e.message).toMatch(/unexpected: extra\.0, extra\.1, .*… and 199,\d{3} more/);
    expect(e.message.length).toBeLessThan(2000);
    m.dispose();
  });
});
