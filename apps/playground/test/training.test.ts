/** The page's in-tab trainer in Node: it runs on fit, the stop button's signal stops it at a step, a new run continues to the target, and the model takes the data's shape. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { decodeSafetensors, resolveUNetConfig, uncheckedOptions } from '@tfjs-diffusion/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRecipe } from '../src/recipe.js';
import { checkResolution, describeData } from '../src/trainData.js';
import { createInTabTrainer, digitsDataset } from '../src/training.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const json: Record<string, unknown> = JSON.parse(readFileSync(join(app, 'public', 'models', 'mnist-tiny', 'config.json'), 'utf8'));
const recipe = readRecipe(json);

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('createInTabTrainer', () => {
  it('the stop signal stops training at a step boundary; train() again goes on to the target; the live plot gets every loss', async () => {
    const count = 32;
    const digits = { count, height: 28, width: 28, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), pixels: Uint8Array.from({ length: count * 784 }, (_, i) => (i * 37) % 256) };
    const before = tf.memory().numTensors;
    const t = await createInTabTrainer(recipe, digitsDataset(digits), { steps: 5, batchSize: 4, lr: 1e-3, seed: 1 });
    try {
      // MNIST: the shipped network itself.
      expect(t.config.model).toEqual(resolveUNetConfig(uncheckedOptions(json.model as object)));
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

  it("takes colour data's size, channels and classes (unconditional without labels), and writes them into the model folder", async () => {
    const n = 6;
    const images = Float32Array.from({ length: n * 16 * 16 * 3 }, (_, i) => Math.sin(i / 7));
    const before = tf.memory().numTensors;
    for (const labelled of [true, false]) {
      const data = { images, shape: [n, 16, 16, 3] as [number, number, number, number], ...(labelled && { labels: Int32Array.from({ length: n }, (_, i) => i % 2), classNames: ['cat', 'dog'] }) };
      const t = await createInTabTrainer(recipe, data, { steps: 2, batchSize: 3, lr: 1e-3, seed: 0 }, 'a U-Net on folder pets');
      try {
        await t.train({});
        expect(t.shape).toEqual([n, 16, 16, 3]);
        expect(t.numClasses).toBe(labelled ? 2 : undefined);
        expect([t.model.config.kind === 'unet' && t.model.config.sampleSize, t.config.model.inChannels, t.config.model.outChannels, t.config.model.numClasses]).toEqual([16, 3, 3, labelled ? 2 : null]);
        // The recipe's network otherwise.
        expect(t.config.model.blockOutChannels).toEqual(recipe.model.blockOutChannels);
        const folder = await t.modelFolder();
        const config = JSON.parse(folder.config);
        expect(config.dataset).toEqual({ numClasses: labelled ? 2 : 1, height: 16, width: 16, channels: 3, ...(labelled && { classNames: ['cat', 'dog'] }) });
        expect(config.demo.classConditional).toBe(labelled);
        expect(config.demo.steps).toBe(2);
        const weights = decodeSafetensors(folder.weights).tensors;
        expect(Object.keys(weights).length).toBe(t.model.parameters().length);
        await t.withEma(async (m) => expect([m.height, m.width, m.channels, m.numClasses, m.description]).toEqual([16, 16, 3, labelled ? 2 : undefined, 'a U-Net on folder pets trained in this tab (2 steps)']));
      } finally {
        await t.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('refuses a batch larger than the dataset and a size the network cannot halve, naming them', async () => {
    const data = { images: new Float32Array(2 * 16 * 16 * 3), shape: [2, 16, 16, 3] as [number, number, number, number] };
    await expect(createInTabTrainer(recipe, data, { steps: 1, batchSize: 4, lr: 1e-3, seed: 0 })).rejects.toThrow('batch must be at most the 2 images of the dataset; got 4');
    const odd = { images: new Float32Array(2 * 18 * 18 * 3), shape: [2, 18, 18, 3] as [number, number, number, number] };
    await expect(createInTabTrainer(recipe, odd, { steps: 1, batchSize: 2, lr: 1e-3, seed: 0 })).rejects.toThrow(/UNet: sampleSize 18×18 cannot be halved 2 times/);
    expect(checkResolution(32, 4)).toBe(32);
    for (const bad of [12, 132, 30, 31.5]) expect(() => checkResolution(bad, 4)).toThrow(`resolution must be an integer from 16 to 128 and a multiple of 4 (the network halves it 2 times); got ${bad}`);
    expect(describeData({ ...data, classNames: ['a', 'b'] }, 'folder x')).toBe('folder x: 2 images at 16×16 RGB, 2 classes (a, b): class-conditional');
  });
});

describe('readRecipe', () => {
  it('reads the shipped recipe', () => {
    expect([recipe.lrSchedule, recipe.warmupSteps, recipe.regularizers]).toEqual(['cosine', 50, { ema: 0.995, weightDecay: 0.01, clipGradNorm: 1, pUncond: 0.1, dropout: 0 }]);
    expect(recipe.model.predictionType).toBe('v');
    expect(recipe.schedule.alphasCumprod.length).toBe(1000);
  });

  it('names the field of a config that is wrong', () => {
    const demo = json.demo as Record<string, unknown>;
    const with_ = (patch: Record<string, unknown>) => ({ ...json, ...patch });
    expect(() => readRecipe(with_({ demo: undefined }))).toThrow('config.json: "demo" must be an object; got undefined');
    expect(() => readRecipe(with_({ model: { ...(json.model as object), blockOutChannel: [8] } }))).toThrow(`config.json (under "model"): UNet: unknown option "blockOutChannel"; did you mean 'blockOutChannels'?`);
    expect(() => readRecipe(with_({ model: { kind: 'mlp' } }))).toThrow('config.json: the page trains a U-Net; model kind is "mlp"');
    expect(() => readRecipe(with_({ demo: { ...demo, lrSchedule: 'linear' } }))).toThrow(`config.json (under "demo"): lrSchedule must be 'constant' or 'cosine'; got "linear"`);
    expect(() => readRecipe(with_({ demo: { ...demo, warmupSteps: -1 } }))).toThrow('warmupSteps must be a non-negative integer; got -1');
    expect(() => readRecipe(with_({ demo: { ...demo, regularizers: { ema: 1.5 } } }))).toThrow('config.json (under "demo.regularizers"): ema must be in [0, 1) (0: no EMA); got 1.5');
    expect(() => readRecipe(with_({ demo: { ...demo, schedule: { betaSchedule: 'cos' } } }))).toThrow(/config.json \(under "demo.schedule"\): .*betaSchedule/);
  });
});
