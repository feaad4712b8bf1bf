import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadWeights, MLPDenoiser, modelConfigOf, modelTensors, UNet } from './index.js';
import { loadModel, saveModel, writeSafetensors } from './node.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cfg = { sampleSize: 8, blockOutChannels: [8, 8], layersPerBlock: 1, normNumGroups: 4, numClasses: 2, embedDim: 8 };

describe('saveModel / loadModel', () => {
  it('a loaded U-Net predicts exactly what the saved one did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    const m = new UNet(cfg, { seed: 3 });
    await saveModel(m, dir);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).kind).toBe('unet');
    const back = await loadModel(dir);
    expect(back).toBeInstanceOf(UNet);
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([4, 400]);
    const c = { classLabels: tf.tensor1d([1, 2], 'int32') };
    expect(back.predict(x, t, c).dataSync()).toEqual(m.predict(x, t, c).dataSync());
    const fresh = new UNet(cfg, { seed: 4 });
    expect(fresh.predict(x, t, c).dataSync()).not.toEqual(m.predict(x, t, c).dataSync());
    [m, back, fresh].forEach((q) => q.dispose());
  });

  it('reads a run folder whose config.json holds the model config under `model`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    const m = new MLPDenoiser({ dim: 3, hidden: 8 }, { seed: 1 });
    await saveModel(m, dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: m.config, dataset: 'toy' }));
    const back = await loadModel(dir);
    expect(back).toBeInstanceOf(MLPDenoiser);
    const x = tf.ones([1, 1, 1, 3]) as tf.Tensor4D;
    expect(back.predict(x, tf.tensor1d([9])).dataSync()).toEqual(m.predict(x, tf.tensor1d([9])).dataSync());
    [m, back].forEach((q) => q.dispose());
  });

  it('reads config.json through the one parser, modelConfigOf: a config without a model kind is refused naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    await saveModel(new MLPDenoiser({ dim: 3, hidden: 8 }), dir);
    const file = join(dir, 'config.json');
    for (const [json, why] of [[{ dim: 3 }, 'got kind undefined'], [{ model: 'mlp' }, 'got kind undefined'], [[1], 'got an array'], [{ kind: 'gan' }, `got kind "gan"`]] as const) {
      writeFileSync(file, JSON.stringify(json));
      await expect(loadModel(dir)).rejects.toThrow(`loadModel: ${file}: `);
      await expect(loadModel(dir)).rejects.toThrow(why);
    }
    expect(modelConfigOf({ model: { dim: 3 }, steps: 9 }, 'run')).toEqual({ dim: 3, kind: 'unet' });
    expect(modelConfigOf({ kind: 'mlp', dim: 3 }, 'bare')).toEqual({ kind: 'mlp', dim: 3 });
  });

  it('round-trips an MLP too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    const m = new MLPDenoiser({ dim: 3, hidden: 8, predictionType: 'v' });
    await saveModel(m, dir);
    const back = await loadModel(dir);
    expect(back).toBeInstanceOf(MLPDenoiser);
    expect(back.prediction).toBe('v');
    const x = tf.ones([1, 1, 1, 3]) as tf.Tensor4D;
    expect(back.predict(x, tf.tensor1d([9])).dataSync()).toEqual(m.predict(x, tf.tensor1d([9])).dataSync());
  });

  it('lists every missing, unexpected and mismatched tensor, and assigns nothing then', async () => {
    const m = new UNet(cfg);
    const tensors = modelTensors(m) as Record<string, { shape: number[]; data: Float32Array }>;
    delete tensors['convOut.bias'];
    tensors['extra.weight'] = { shape: [1], data: new Float32Array(1) };
    tensors['convIn.kernel'] = { shape: [3, 3, 1, 4], data: new Float32Array(36) };
    const before = m.parameters()[0]!.variable.dataSync().slice();
    expect(() => loadWeights(m, tensors)).toThrow(/missing: convOut\.bias; unexpected: extra\.weight; shape mismatch: convIn\.kernel \(file \[3,3,1,4\], model \[3,3,1,8\]\)/);
    expect(m.parameters()[0]!.variable.dataSync()).toEqual(before);
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    await saveModel(m, dir);
    await writeSafetensors(join(dir, 'model.safetensors'), { only: { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    await expect(loadModel(dir)).rejects.toThrow(/model\.safetensors do not fit the model; missing: .*convIn\.kernel/);
    expect(() => createModel({ kind: 'gan' })).toThrow(/'unet' or 'mlp'/);
  });

  it('refuses 64-bit integer data for a weight by name, and assigns nothing then', () => {
    const m = new UNet(cfg);
    const tensors: Record<string, { shape: number[]; data: Float32Array | BigInt64Array }> = modelTensors(m) as Record<string, { shape: number[]; data: Float32Array }>;
    const bias = tensors['convOut.bias']!;
    tensors['convOut.bias'] = { shape: bias.shape, data: new BigInt64Array(bias.data.length) };
    const before = m.parameters()[0]!.variable.dataSync().slice();
    expect(() => loadWeights(m, tensors)).toThrow(/64-bit integer data where a weight must be floating point: convOut\.bias/);
    expect(m.parameters()[0]!.variable.dataSync()).toEqual(before);
  });
});
