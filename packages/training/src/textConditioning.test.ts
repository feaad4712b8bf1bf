import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ClipTextEncoder, clipTokenizer, decodeSafetensors, fromTransformers, promptEncoder, textConditioned, type TextReadingDenoiser } from '@tfjs-diffusion/models';
import type { Conditioning } from '@tfjs-diffusion/samplers';
import { createRng, makeSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchPreparer } from './batch.js';
import { disposePrepared } from './loss.js';
import { resolveOptions } from './options.js';
import { createTrainer } from './trainer.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/clip-text-tiny', import.meta.url));
const tokenizer = clipTokenizer({
  vocab: readFileSync(join(FIXTURE, 'tokenizer/vocab.json'), 'utf8'),
  merges: readFileSync(join(FIXTURE, 'tokenizer/merges.txt'), 'utf8'),
});
const schedule = makeSchedule({ numTrainTimesteps: 100 });
const small = { hiddenSize: 8, intermediateSize: 16, numAttentionHeads: 2, numHiddenLayers: 1 };
const EMPTY = Array.from(tokenizer.encodeBatch(['']).data);

/** out = w·x + Σ states·P per row: one trained weight, and a text term the gradient passes through. */
function probe(dim: number): TextReadingDenoiser & { dispose(): void } {
  const w = tf.variable(tf.scalar(0.5), true, 'probe_w');
  const P = tf.tensor3d(Float32Array.from({ length: 77 * dim }, (_, i) => Math.sin(i * 0.37)), [1, 77, dim]);
  return {
    prediction: 'epsilon',
    numClasses: null,
    predict: (x, _t, cond?: Conditioning) => tf.tidy(() => tf.add(tf.mul(x, w), tf.reshape(tf.sum(tf.mul(cond!.encoderHiddenStates!, P), [1, 2]), [-1, 1, 1, 1])) as tf.Tensor4D),
    parameters: () => [{ name: 'probe.w', variable: w }],
    dispose: () => tf.dispose([w, P]),
  };
}

const data = (prompts: string[]) => ({
  next: () => ({ images: tf.randomNormal([prompts.length, 1, 1, 1]) as tf.Tensor4D, cond: { inputIds: tf.tensor2d(tokenizer.encodeBatch(prompts).data, [prompts.length, 77], 'int32') } }),
});

const snapshot = (e: ClipTextEncoder) => e.parameters().map((p) => Float32Array.from(p.variable.dataSync()));
const changed = (a: Float32Array[], b: Float32Array[]) => a.filter((x, i) => x.some((v, j) => v !== b[i]![j])).length;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('caption dropout', () => {
  it('replaces a caption by the empty prompt with probability pUncond (3,200 seeded draws within 4σ), leaving the others', () => {
    const encoder = new ClipTextEncoder(small);
    const d = probe(8);
    const model = textConditioned(d, { encoder, tokenizer });
    const p = 0.2;
    const o = resolveOptions({ denoiser: model, schedule, data: data(['x']), regularizers: { pUncond: p } });
    const prepare = createBatchPreparer(schedule, o, createRng(11));
    const row = Array.from(tokenizer.encodeBatch(['red heart']).data);
    const before = tf.memory().numTensors;
    let dropped = 0;
    const n = 64;
    for (let b = 0; b < 50; b++) {
      const images = tf.zeros([n, 1, 1, 1]) as tf.Tensor4D;
      const inputIds = tf.tensor2d(tokenizer.encodeBatch(new Array(n).fill('red heart')).data, [n, 77], 'int32');
      const prepared = prepare({ images, cond: { inputIds } }, b);
      const ids = prepared.cond!.inputIds!.arraySync();
      for (const r of ids) {
        if (r.join() === EMPTY.join()) dropped++;
        else expect(r).toEqual(row);
      }
      disposePrepared(prepared);
      tf.dispose([images, inputIds]);
    }
    expect(tf.memory().numTensors).toBe(before);
    const rate = dropped / (50 * n);
    console.log(`caption dropout: ${dropped} of ${50 * n} rows (rate ${rate.toFixed(4)}, p = ${p})`);
    expect(Math.abs(rate - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / (50 * n)));
    d.dispose();
    encoder.dispose();
  });

  it('with precomputed states, a dropped row gets regularizers.nulls: the empty prompt\'s states', () => {
    const encoder = new ClipTextEncoder(small);
    const pe = promptEncoder({ tokenizer, encoder });
    const d = probe(8);
    const o = resolveOptions({ denoiser: d, schedule, data: data(['x']), regularizers: { pUncond: 0.5, nulls: pe.nulls() } });
    const cond = pe.conditioning(new Array(16).fill('red heart'));
    const images = tf.zeros([16, 1, 1, 1]) as tf.Tensor4D;
    const prepared = createBatchPreparer(schedule, o, createRng(2))({ images, cond }, 0);
    const rows = prepared.cond!.encoderHiddenStates!.arraySync().map((r) => r.flat());
    const [empty, heart] = [Array.from(pe.embedding('')), Array.from(pe.embedding('red heart'))];
    const kinds = rows.map((r) => (r.every((v, i) => v === empty[i]) ? 'empty' : r.every((v, i) => v === heart[i]) ? 'heart' : 'other'));
    expect(kinds).not.toContain('other');
    expect(kinds).toContain('empty');
    expect(kinds).toContain('heart');
    disposePrepared(prepared);
    tf.dispose([images, cond.encoderHiddenStates]);
    d.dispose();
    encoder.dispose();
  });

  it('refuses pUncond on a model with no null value for its fields', () => {
    const d = probe(8);
    expect(() => resolveOptions({ denoiser: d, schedule, data: data(['x']), regularizers: { pUncond: 0.1 } })).toThrow(/pUncond needs regularizers.nullClass/);
    d.dispose();
  });
});

describe('the text encoder in training', () => {
  it.each([
    ['trained with the U-Net', { trainTextEncoder: true }, [], true],
    ['frozen', { trainTextEncoder: false }, [], false],
    ['listed but frozen by a freeze pattern', { trainTextEncoder: true }, ['text_encoder.*'], false],
  ] as const)('%s', async (_, opts, freeze, trains) => {
    const encoder = new ClipTextEncoder(small, { seed: 1 });
    const d = probe(8);
    const model = textConditioned(d, { encoder, tokenizer, ...opts });
    const trainer = await createTrainer({ denoiser: model, schedule, data: data(['red heart', 'a photo of a cat', '']), freeze: [...freeze], learningRate: 1e-2, regularizers: { pUncond: 0.3 } });
    const e0 = snapshot(encoder);
    const w0 = d.parameters()[0]!.variable.dataSync()[0];
    await trainer.fit({ steps: 3 });
    const n = changed(e0, snapshot(encoder));
    if (trains) expect(n).toBeGreaterThan(encoder.parameters().length / 2);
    else expect(n).toBe(0);
    expect(d.parameters()[0]!.variable.dataSync()[0]).not.toBe(w0);
    trainer.dispose?.();
    d.dispose();
    encoder.dispose();
  });

  it('pretrained and frozen: a CLIPTextModel from transformers stays as read while the U-Net trains', async () => {
    const encoder = fromTransformers(
      JSON.parse(readFileSync(join(FIXTURE, 'text_encoder/config.json'), 'utf8')),
      decodeSafetensors(readFileSync(join(FIXTURE, 'text_encoder/model.safetensors'))).tensors,
    );
    const d = probe(32);
    const model = textConditioned(d, { encoder, tokenizer });
    const trainer = await createTrainer({ denoiser: model, schedule, data: data(['red heart', 'Egypt Flag']), learningRate: 1e-2 });
    const e0 = snapshot(encoder);
    await trainer.fit({ steps: 2 });
    expect(changed(e0, snapshot(encoder))).toBe(0);
    expect(trainer.trainable().map((p) => p.name)).toEqual(['probe.w']);
    trainer.dispose?.();
    d.dispose();
    encoder.dispose();
  });
});
