import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ddim, type Denoiser, sample } from '@tfjs-diffusion/samplers';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attend } from './blocks/multiHeadAttention.js';
import { fromDiffusers, type UNet } from './index.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/diffusers-unet2dcondition-tiny');
let model: UNet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = fromDiffusers(readFileSync(join(FIXTURE, 'config.json'), 'utf8'), readFileSync(join(FIXTURE, 'diffusion_pytorch_model.safetensors')));
});
afterAll(() => model.dispose());

describe('multi-head attention', () => {
  it('equals softmax(q kᵀ/√d) v computed head by head, the heads being contiguous channel chunks', () => {
    const [b, n, l, heads, d] = [2, 5, 3, 4, 2];
    const c = heads * d;
    const q = tf.randomNormal([b * n, c], 0, 1, 'float32', 1) as tf.Tensor2D;
    const k = tf.randomNormal([b * l, c], 0, 1, 'float32', 2) as tf.Tensor2D;
    const v = tf.randomNormal([b * l, c], 0, 1, 'float32', 3) as tf.Tensor2D;
    const got = attend(q, k, v, b, heads).arraySync();
    const [Q, K, V] = [q.arraySync(), k.arraySync(), v.arraySync()];
    for (let bi = 0; bi < b; bi++) for (let h = 0; h < heads; h++) for (let i = 0; i < n; i++) {
      const s = Array.from({ length: l }, (_, j) => {
        let dot = 0;
        for (let e = 0; e < d; e++) dot += Q[bi * n + i]![h * d + e]! * K[bi * l + j]![h * d + e]!;
        return dot / Math.sqrt(d);
      });
      const m = Math.max(...s);
      const w = s.map((x) => Math.exp(x - m));
      const z = w.reduce((a, x) => a + x, 0);
      for (let e = 0; e < d; e++) {
        const want = w.reduce((a, x, j) => a + (x / z) * V[bi * l + j]![h * d + e]!, 0);
        expect(got[bi * n + i]![h * d + e]!).toBeCloseTo(want, 5);
      }
    }
    tf.dispose([q, k, v]);
  });
});

describe('the cross-attention U-Net in training and sampling', () => {
  it('its gradient matches a central finite difference along it at cross-attention, self-attention and GEGLU weights', () => {
    const x = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const t = tf.tensor1d([250]);
    const text = tf.randomNormal([1, 7, 32], 0, 1, 'float32', 5) as tf.Tensor3D;
    const r = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 6);
    const loss = () => tf.sum(tf.mul(model.predict(x, t, { encoderHiddenStates: text }), r)) as tf.Scalar;
    // Along the gradient's own direction u the derivative is |g|: a signal far above float32 rounding.
    for (const name of ['down.0.transformer.0.blocks.0.attn2.k.kernel', 'down.0.transformer.0.blocks.0.attn1.q.kernel', 'mid.transformer.blocks.0.ff.proj.kernel']) {
      const v = model.parameters().find((p) => p.name === name)!.variable;
      const { grads } = tf.variableGrads(loss, [v]);
      const norm = tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!);
      const u = tf.div(grads[v.name]!, norm);
      const orig = v.clone();
      const at = (h: number) => {
        tf.tidy(() => v.assign(tf.add(orig, tf.mul(u, h))));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const h = 1e-2;
      const fd = (at(h) - at(-h)) / (2 * h);
      v.assign(orig);
      expect(norm, name).toBeGreaterThan(1e-2);
      expect(Math.abs(fd - norm) / norm, name).toBeLessThan(1e-2);
      tf.dispose([grads, u, orig]);
    }
    tf.dispose([x, t, text, r]);
  });

  it("sample() with guidance carries the text states through the doubled batch: ε_null + s·(ε_text − ε_null), the null rows being guidance's nulls", async () => {
    const schedule = makeSchedule();
    const text = tf.randomNormal([2, 7, 32], 0, 1, 'float32', 7) as tf.Tensor3D;
    const empty = Float32Array.from({ length: 7 * 32 }, (_, i) => Math.sin(i)); // stands for the empty prompt's states
    const s = 3;
    const opts = { schedule, shape: [2, 16, 16, 3] as [number, number, number, number], numInferenceSteps: 2, seed: 3 };
    const before = tf.memory().numTensors;
    const guided = await sample(model, ddim(), { ...opts, cond: { encoderHiddenStates: text }, guidance: { guidanceScale: s, nulls: { encoderHiddenStates: empty } } });
    const nullStates = tf.tidy(() => tf.tile(tf.tensor3d(empty, [1, 7, 32]), [2, 1, 1]) as tf.Tensor3D);
    const byHand: Denoiser = {
      prediction: 'epsilon',
      predict: (x, tt) => tf.tidy(() => {
        const u = model.predict(x, tt, { encoderHiddenStates: nullStates });
        return tf.add(u, tf.mul(tf.sub(model.predict(x, tt, { encoderHiddenStates: text }), u), s)) as tf.Tensor4D;
      }),
    };
    const ref = await sample(byHand, ddim(), opts);
    console.log(`guided sampling: max |doubled batch − by hand| = ${tf.tidy(() => tf.max(tf.abs(tf.sub(guided.samples, ref.samples))).dataSync()[0]!).toExponential(2)}`);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(guided.samples, ref.samples))).dataSync()[0]!);
    const spread = tf.tidy(() => tf.moments(ref.samples).variance.sqrt().dataSync()[0]!);
    expect(diff / spread).toBeLessThan(1e-4);
    tf.dispose([guided.samples, ref.samples, nullStates]);
    expect(tf.memory().numTensors).toBe(before);
    text.dispose();
  });
});
