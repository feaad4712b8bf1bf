import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../safetensors.js';
import { ClipTextEncoder, clipTextParameterCount } from './clipTextEncoder.js';
import { fromTransformers, toTransformers } from './transformers.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = fileURLToPath(new URL('../../../../../shared/fixtures/clip-text-tiny', import.meta.url));
const config = JSON.parse(readFileSync(join(FIXTURE, 'text_encoder/config.json'), 'utf8')) as Record<string, unknown>;
const weights = decodeSafetensors(readFileSync(join(FIXTURE, 'text_encoder/model.safetensors'))).tensors;
const io = decodeSafetensors(readFileSync(join(FIXTURE, 'io.safetensors'))).tensors;
const ids = { data: Int32Array.from(io.input_ids!.data as BigInt64Array, Number), shape: [4, 77] };
const want = io.last_hidden_state!.data as Float32Array;

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

beforeEach(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('fromTransformers', () => {
  it.each(['cpu', 'wasm'])("%s: encode gives CLIP's last_hidden_state within 1e-4, without leaking", async (backend) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const enc = fromTransformers(config, weights);
    expect(enc.numParameters()).toBe(clipTextParameterCount({ vocabSize: 49408, hiddenSize: 32, intermediateSize: 128, numAttentionHeads: 4, numHiddenLayers: 2 }));
    const after = tf.memory().numTensors;
    const input = tf.tensor2d(ids.data, [4, 77], 'int32');
    const out = enc.encode(input);
    input.dispose();
    expect(out.shape).toEqual([4, 77, 32]);
    const err = maxAbs(out.dataSync(), want);
    console.log(`${backend}: max |ours - CLIP| = ${err.toExponential(2)} (outputs up to ${maxAbs(want, new Float32Array(want.length)).toFixed(2)})`);
    expect(err).toBeLessThan(1e-4);
    out.dispose();
    for (let i = 0; i < 3; i++) enc.encode(ids).dispose();
    expect(tf.memory().numTensors).toBe(after);
    enc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('each causal position sees only what precedes it: a later token does not change earlier states', () => {
    const enc = fromTransformers(config, weights);
    const a = enc.encode({ data: Int32Array.from([49406, 736, 1936, 49407]), shape: [1, 4] });
    const b = enc.encode({ data: Int32Array.from([49406, 736, 2368, 49407]), shape: [1, 4] });
    const [da, db] = [a.dataSync(), b.dataSync()];
    expect(maxAbs(da.slice(0, 64), db.slice(0, 64))).toBe(0);
    expect(maxAbs(da.slice(64, 96), db.slice(64, 96))).toBeGreaterThan(1e-3);
    // Unpadded rows are the padded rows' first states (as the mask makes them).
    const padded = enc.encode(ids);
    const first = tf.slice(padded, [0, 0, 0], [1, 4, 32]);
    expect(maxAbs(first.dataSync(), da)).toBeLessThan(1e-5);
    tf.dispose([a, b, padded, first]);
    enc.dispose();
  });

  it('toTransformers writes back the same keys, shapes and values', () => {
    const enc = fromTransformers(JSON.stringify(config), encodeSafetensors(weights));
    const { config: c, tensors } = toTransformers(enc);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(weights).sort());
    for (const [k, t] of Object.entries(weights)) {
      expect(tensors[k]!.shape, k).toEqual(t.shape);
      expect(maxAbs(tensors[k]!.data as Float32Array, t.data as Float32Array), k).toBe(0);
    }
    for (const k of ['hidden_size', 'intermediate_size', 'num_attention_heads', 'num_hidden_layers', 'max_position_embeddings', 'vocab_size', 'hidden_act', 'layer_norm_eps', 'model_type']) {
      expect(c[k], k).toEqual(config[k]);
    }
    const again = fromTransformers(c, tensors);
    const [x, y] = [enc.encode(ids), again.encode(ids)];
    expect(maxAbs(x.dataSync(), y.dataSync())).toBe(0);
    tf.dispose([x, y]);
    enc.dispose();
    again.dispose();
  });

  it('ignores the position_ids buffer older transformers saved', () => {
    const enc = fromTransformers(config, { ...weights, 'text_model.embeddings.position_ids': { dtype: 'I64', shape: [1, 77], data: new BigInt64Array(77) } });
    enc.dispose();
  });

  it('refuses an unknown or unsupported config key by name, and bad weights by key, leaking nothing', () => {
    const before = tf.memory().numTensors;
    expect(() => fromTransformers({ ...config, hiden_size: 32 }, weights)).toThrow(/unknown option 'hiden_size'; did you mean 'hidden_size'/);
    expect(() => fromTransformers({ ...config, hidden_act: 'relu' }, weights)).toThrow(/hiddenAct must be one of 'quick_gelu', 'gelu'; got "relu" \(config.json key 'hidden_act'\)/);
    expect(() => fromTransformers({ ...config, num_attention_heads: 5 }, weights)).toThrow(/multiple of numAttentionHeads/);
    expect(() => fromTransformers({ ...config, model_type: 'clip_vision_model' }, weights)).toThrow(/model_type must be 'clip_text_model'/);
    expect(() => fromTransformers({ ...config, architectures: ['CLIPTextModelWithProjection'] }, weights)).toThrow(/architectures must be \['CLIPTextModel'\]/);
    const { 'text_model.final_layer_norm.bias': _, ...noBias } = weights;
    expect(() => fromTransformers(config, noBias)).toThrow(/missing: text_model\.final_layer_norm\.bias$/);
    const fc1 = weights['text_model.encoder.layers.1.mlp.fc1.weight']!;
    const bad: SafetensorsTensor = { ...fc1, shape: [32, 128], data: fc1.data };
    expect(() => fromTransformers(config, { ...weights, 'text_model.encoder.layers.1.mlp.fc1.weight': bad }))
      .toThrow(/shape mismatch: text_model\.encoder\.layers\.1\.mlp\.fc1\.weight \(file \[32,128\], expected \[128,32\]\)$/);
    expect(() => fromTransformers(config, { ...weights, 'text_model.text_projection.weight': fc1 })).toThrow(/unexpected: text_model\.text_projection\.weight$/);
    expect(() => fromTransformers(config, [] as never)).toThrow(/weights must be model.safetensors' tensors/);
    expect(() => fromTransformers(config, weights, { sorce: 'x' } as never)).toThrow(/unknown option 'sorce'; did you mean 'source'/);
    const enc = fromTransformers(config, weights);
    const after = tf.memory().numTensors;
    expect(() => enc.encode({ data: Int32Array.from([49408]), shape: [1, 1] })).toThrow(/inputIds holds 49408 at 0; ids must be integers in \[0, 49408\)/);
    expect(() => enc.encode({ data: new Int32Array(78), shape: [1, 78] })).toThrow(/78 tokens per row, more than maxPositionEmbeddings \(77\)/);
    expect(() => enc.encode(tf.zeros([2]) as never)).toThrow(/inputIds must be \[batch, length\] token ids/);
    expect(tf.memory().numTensors).toBe(after + 1); // the zeros above
    enc.dispose();
    expect(tf.memory().numTensors).toBe(before + 1);
  });
});

describe('ClipTextEncoder (random init)', () => {
  it.each(['cpu', 'wasm'])('%s: is trainable: the gradient of a loss reaches every weight and matches a finite difference', async (backend) => {
    await tf.setBackend(backend);
    const enc = new ClipTextEncoder({ vocabSize: 50, hiddenSize: 8, intermediateSize: 16, numAttentionHeads: 2, numHiddenLayers: 1, maxPositionEmbeddings: 6, hiddenAct: 'gelu' }, { seed: 3 });
    expect(enc.parameters().every((q) => q.variable.trainable)).toBe(true);
    const input = { data: Int32Array.from([0, 5, 7, 49, 1, 2, 3, 3]), shape: [2, 4] };
    const target = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 1);
    const loss = () => tf.mean(tf.square(tf.sub(enc.encode(input), target))) as tf.Scalar;
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(loss);
    value.dispose();
    const names = enc.parameters().map((q) => q.name);
    // Every parameter gets a gradient, the unused table rows none.
    for (const q of enc.parameters()) expect(tf.tidy(() => tf.sum(tf.abs(grads[q.variable.name]!)).dataSync()[0]), q.name).toBeGreaterThan(0);
    const tableGrad = grads[enc.parameters()[0]!.variable.name]!.arraySync() as number[][];
    expect(tableGrad[10]!.every((g) => g === 0)).toBe(true);
    // A central difference on one weight of fc1.
    const fc1 = enc.selectParameters('encoder.layers.0.mlp.fc1.kernel')[0]!.variable;
    const g = (grads[fc1.name]!.dataSync())[3]!;
    const h = 1e-2;
    const at = (delta: number) => tf.tidy(() => {
      const v = fc1.dataSync().slice();
      v[3]! += delta;
      fc1.assign(tf.tensor(v, fc1.shape));
      return loss().dataSync()[0]!;
    });
    const fd = (at(h) - at(-2 * h)) / (2 * h);
    at(h);
    expect(Math.abs(fd - g)).toBeLessThan(1e-3 * Math.max(1, Math.abs(g)));
    tf.dispose(Object.values(grads));
    expect(tf.memory().numTensors).toBe(before);
    expect(names).toContain('final_layer_norm.gamma');
    target.dispose();
    enc.dispose();
  });

  it.each(['quick_gelu', 'gelu'] as const)('%s: a one-token, one-layer encoder with zero attention gives LN(x + act(LN(x) W1) W2), written out', (hiddenAct) => {
    const enc = new ClipTextEncoder({ vocabSize: 3, hiddenSize: 4, intermediateSize: 3, numAttentionHeads: 2, numHiddenLayers: 1, maxPositionEmbeddings: 2, hiddenAct }, { seed: 5 });
    for (const q of enc.selectParameters('encoder.layers.0.self_attn.*')) q.variable.assign(tf.zerosLike(q.variable));
    const get = (n: string) => Array.from(enc.selectParameters(n)[0]!.variable.dataSync());
    const tok = get('embeddings.token_embedding.table').slice(8, 12); // id 2
    const pos = get('embeddings.position_embedding.table').slice(0, 4);
    const [w1, w2] = [get('encoder.layers.0.mlp.fc1.kernel'), get('encoder.layers.0.mlp.fc2.kernel')];
    const ln = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
      return v.map((a) => (a - m) / Math.sqrt(s2 + 1e-5));
    };
    const erf = (z: number) => { // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7)
      const t = 1 / (1 + 0.3275911 * Math.abs(z));
      const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
      return z >= 0 ? y : -y;
    };
    const act = (z: number) => (hiddenAct === 'quick_gelu' ? z / (1 + Math.exp(-1.702 * z)) : 0.5 * z * (1 + erf(z / Math.SQRT2)));
    const x = tok.map((a, i) => a + pos[i]!);
    const h = ln(x);
    const f = [0, 1, 2].map((j) => act(h.reduce((s, hi, i) => s + hi * w1[i * 3 + j]!, 0)));
    const want = ln(x.map((xi, i) => xi + f.reduce((s, fj, j) => s + fj * w2[j * 4 + i]!, 0)));
    const out = enc.encode({ data: Int32Array.from([2]), shape: [1, 1] });
    expect(maxAbs(out.dataSync(), want)).toBeLessThan(1e-5);
    out.dispose();
    enc.dispose();
  });

  it('same seed, same weights; refuses bad sizes by name', () => {
    const a = new ClipTextEncoder({ hiddenSize: 8, intermediateSize: 8, numAttentionHeads: 2, numHiddenLayers: 1, vocabSize: 10 }, { seed: 1 });
    const b = new ClipTextEncoder({ hiddenSize: 8, intermediateSize: 8, numAttentionHeads: 2, numHiddenLayers: 1, vocabSize: 10 }, { seed: 1 });
    expect(maxAbs(a.parameters()[2]!.variable.dataSync(), b.parameters()[2]!.variable.dataSync())).toBe(0);
    a.dispose();
    b.dispose();
    expect(() => new ClipTextEncoder({ hidenSize: 8 } as never)).toThrow(/unknown option 'hidenSize'; did you mean 'hiddenSize'/);
    expect(() => new ClipTextEncoder({ hiddenSize: 0 })).toThrow(/hiddenSize must be an integer in \[1, 1048576\]; got 0/);
    expect(() => new ClipTextEncoder({ layerNormEps: -1 })).toThrow(/layerNormEps must be a number in \(0, 1\)/);
    expect(() => new ClipTextEncoder({}, { sed: 1 } as never)).toThrow(/unknown option 'sed'; did you mean 'seed'/);
  });
});
