import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { classifierFreeGuidance, type Conditioning } from '@tfjs-diffusion/samplers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeSafetensors } from '../safetensors.js';
import { clipTokenizer } from './clipTokenizer.js';
import { promptEncoder } from './prompts.js';
import { textConditioned, type TextReadingDenoiser } from './textConditioned.js';
import { fromTransformers } from './transformers.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = fileURLToPath(new URL('../../../../../shared/fixtures/clip-text-tiny', import.meta.url));
const tokenizer = clipTokenizer({
  vocab: readFileSync(join(FIXTURE, 'tokenizer/vocab.json'), 'utf8'),
  merges: readFileSync(join(FIXTURE, 'tokenizer/merges.txt'), 'utf8'),
});
const config = JSON.parse(readFileSync(join(FIXTURE, 'text_encoder/config.json'), 'utf8')) as Record<string, unknown>;
const weights = decodeSafetensors(readFileSync(join(FIXTURE, 'text_encoder/model.safetensors'))).tensors;
const io = decodeSafetensors(readFileSync(join(FIXTURE, 'io.safetensors'))).tensors;
const ROW = 77 * 32;

// A probe reading encoderHiddenStates: out = x + s, s = Σ states·P per row (P fixed), so guidance has a closed form.
const P = Float32Array.from({ length: ROW }, (_, i) => Math.sin(i * 0.37));
const project = (row: ArrayLike<number>) => Array.from(row).reduce((a, v, i) => a + v * P[i]!, 0);
const probe: TextReadingDenoiser = {
  prediction: 'epsilon',
  numClasses: null,
  predict: (x, _t, cond) => tf.tidy(() => {
    const e = cond!.encoderHiddenStates!;
    const s = tf.sum(tf.mul(e, tf.tensor3d(P, [1, 77, 32])), [1, 2]);
    return tf.add(x, tf.reshape(s, [-1, 1, 1, 1])) as tf.Tensor4D;
  }),
  parameters: () => [],
};

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(b).reduce((m, v, i) => Math.max(m, Math.abs(a[i]! - v)), 0);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('promptEncoder', () => {
  it("gives CLIP's states for each prompt, encoding each distinct token sequence once", () => {
    const enc = fromTransformers(config, weights);
    const pe = promptEncoder({ tokenizer, encoder: enc });
    const before = tf.memory().numTensors;
    const c = pe.conditioning(['red heart', 'a photo of a cat', 'red heart', ' Red   HEART ']);
    expect(c.encoderHiddenStates.shape).toEqual([4, 77, 32]);
    expect(pe.encoded).toBe(2);
    const got = c.encoderHiddenStates.dataSync();
    const want = io.last_hidden_state!.data as Float32Array;
    expect(maxAbs(got.slice(0, 2 * ROW), want.slice(0, 2 * ROW))).toBeLessThan(1e-4);
    expect(maxAbs(got.slice(2 * ROW, 3 * ROW), got.slice(0, ROW))).toBe(0);
    expect(maxAbs(got.slice(3 * ROW), got.slice(0, ROW))).toBe(0);
    c.encoderHiddenStates.dispose();
    pe.conditioning(['a photo of a cat']).encoderHiddenStates.dispose();
    expect(pe.encoded).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    // The null condition is the empty prompt's states; a negative prompt's instead when given.
    expect(pe.nulls().encoderHiddenStates).toEqual(pe.embedding(''));
    expect(pe.nulls('blurry').encoderHiddenStates).toEqual(pe.embedding('blurry'));
    expect(maxAbs(pe.nulls().encoderHiddenStates, pe.embedding('blurry'))).toBeGreaterThan(1e-3);
    pe.clear();
    pe.embedding('red heart');
    expect(pe.encoded).toBe(5);
    enc.dispose();
  });

  it('classifier-free guidance against the empty prompt: ε_u + w(ε_c − ε_u) with ε_u from the empty prompt, and ε_c when cond is the null', () => {
    const enc = fromTransformers(config, weights);
    const pe = promptEncoder({ tokenizer, encoder: enc });
    const x = tf.randomNormal([2, 2, 2, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const t = tf.tensor1d([10, 10]);
    const xs = x.dataSync();
    const [sc0, sc1, su, sn] = ['red heart', 'smiling cat with heart-eyes', '', 'blurry'].map((p) => project(pe.embedding(p)));
    const before = tf.memory().numTensors;
    for (const [w, neg] of [[7.5, undefined], [3, 'blurry']] as const) {
      const guided = classifierFreeGuidance(probe, { guidanceScale: w, nulls: pe.nulls(neg) });
      const cond = pe.conditioning(['red heart', 'smiling cat with heart-eyes']);
      const outT = guided.predict(x, t, cond);
      const out = outT.dataSync();
      outT.dispose();
      const base = neg ? sn! : su!;
      const want = Array.from(xs, (v, i) => v + base + w * ((i < 4 ? sc0! : sc1!) - base));
      expect(maxAbs(out, want)).toBeLessThan(1e-3);
      tf.dispose(cond.encoderHiddenStates);
      // The null prompt as the condition: guidance gives the conditional output, whatever w.
      const same = pe.conditioning([neg ?? '', neg ?? '']);
      const plain = probe.predict(x, t, same);
      const g = guided.predict(x, t, same);
      expect(maxAbs(g.dataSync(), plain.dataSync())).toBeLessThan(1e-5);
      tf.dispose([same.encoderHiddenStates, plain, g]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t]);
    enc.dispose();
  });

  it('refuses bad input by name', () => {
    const enc = fromTransformers(config, weights);
    expect(() => promptEncoder({ tokenizer, encoder: enc, maxCache: 3 } as never)).toThrow(/unknown option 'maxCache'; did you mean 'maxCached'/);
    expect(() => promptEncoder({ tokenizer: {} as never, encoder: enc })).toThrow(/tokenizer must be a ClipTokenizer/);
    expect(() => promptEncoder({ tokenizer, encoder: enc }).conditioning('cat' as never)).toThrow(/prompts must be an array of strings/);
    enc.dispose();
  });
});

describe('textConditioned', () => {
  it('frozen: prompts as inputIds give the same guided output as precomputed states, each distinct prompt encoded once', () => {
    const enc = fromTransformers(config, weights);
    const model = textConditioned(probe, { encoder: enc, tokenizer });
    expect(model.parameters()).toEqual([]);
    const pe = promptEncoder({ tokenizer, encoder: enc });
    const x = tf.randomNormal([3, 2, 2, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const t = tf.tensor1d([1, 2, 3]);
    const prompts = ['red heart', 'Egypt Flag', 'red heart'];
    const before = tf.memory().numTensors;
    const spy = vi.spyOn(enc, 'encode');
    const ids = model.prompts(prompts);
    const a = classifierFreeGuidance(model, { guidanceScale: 4, nulls: model.nulls() }).predict(x, t, ids);
    const states = pe.conditioning(prompts);
    const b = classifierFreeGuidance(probe, { guidanceScale: 4, nulls: pe.nulls() }).predict(x, t, states);
    expect(maxAbs(a.dataSync(), b.dataSync())).toBeLessThan(1e-5);
    // The wrapper: one encode of the three distinct rows (two prompts and the empty one) of the doubled batch;
    // the promptEncoder: one of its two prompts, one of the empty prompt for its nulls.
    expect(spy.mock.calls.map((c) => (c[0] as { shape: number[] }).shape[0])).toEqual([3, 2, 1]);
    model.predict(x, t, ids).dispose();
    expect(spy).toHaveBeenCalledTimes(3);
    tf.dispose([a, b, ids.inputIds, states.encoderHiddenStates]);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(model.conditionNulls.inputIds)).toEqual(Array.from(tokenizer.encodeBatch(['']).data));
    spy.mockRestore();
    tf.dispose([x, t]);
    enc.dispose();
  });

  it('trained: the encoder weights are parameters (text_encoder.*) and the gradient reaches them through the states', () => {
    const enc = fromTransformers(config, weights);
    const model = textConditioned(probe, { encoder: enc, tokenizer, trainTextEncoder: true });
    const names = model.parameters().map((p) => p.name);
    expect(names).toHaveLength(enc.parameters().length);
    expect(names).toContain('text_encoder.final_layer_norm.beta');
    const x = tf.zeros([2, 1, 1, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([0, 0]);
    const ids = model.prompts(['red heart', 'red heart']);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(model.predict(x, t, ids)) as tf.Scalar, model.parameters().map((p) => p.variable));
    // d/dβ_final of Σ_rows Σ states·P is rows × Σ_l P[l, :].
    const beta = model.parameters().find((p) => p.name === 'text_encoder.final_layer_norm.beta')!.variable;
    const want = Array.from({ length: 32 }, (_, d) => 2 * Array.from({ length: 77 }, (_, l) => P[l * 32 + d]!).reduce((a, v) => a + v, 0));
    expect(maxAbs(grads[beta.name]!.dataSync(), want)).toBeLessThan(1e-4);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, ids.inputIds]);
    enc.dispose();
  });

  it('refuses bad input by name', () => {
    const enc = fromTransformers(config, weights);
    const model = textConditioned(probe, { encoder: enc, tokenizer });
    const x = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([0]);
    const both: Conditioning = { inputIds: tf.zeros([1, 77], 'int32') as tf.Tensor2D, encoderHiddenStates: tf.zeros([1, 77, 32]) as tf.Tensor3D };
    expect(() => model.predict(x, t, both)).toThrow(/give cond.inputIds or cond.encoderHiddenStates, not both/);
    expect(() => model.predict(x, t, { inputIds: tf.zeros([2, 77], 'int32') as tf.Tensor2D })).toThrow(/inputIds must be a 2-D tensor \[batch, length\] of token ids with 1 rows; got shape \[2,77\]/);
    expect(() => textConditioned(probe, { encoder: enc, tokenizer, trainTextEncoders: true } as never)).toThrow(/unknown option 'trainTextEncoders'; did you mean 'trainTextEncoder'/);
    expect(() => textConditioned(probe, { encoder: {} as never, tokenizer })).toThrow(/encoder must be a ClipTextEncoder/);
    tf.dispose([x, t, both.inputIds, both.encoderHiddenStates]);
    enc.dispose();
  });
});
