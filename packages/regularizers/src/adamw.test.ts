import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createAdamW } from './adamw.js';

// torch.optim.AdamW written out with plain numbers.
function adamRef(
  theta: number[], grads: number[][], o: { lr: number; b1: number; b2: number; eps: number; wd: number; mode: 'decoupled' | 'l2' },
): number[] {
  const th = theta.slice();
  const m = th.map(() => 0);
  const v = th.map(() => 0);
  grads.forEach((g0, k) => {
    const t = k + 1;
    for (let i = 0; i < th.length; i++) {
      let g = g0[i];
      if (o.mode === 'l2') g += o.wd * th[i];
      else th[i] *= 1 - o.lr * o.wd;
      m[i] = o.b1 * m[i] + (1 - o.b1) * g;
      v[i] = o.b2 * v[i] + (1 - o.b2) * g * g;
      const mHat = m[i] / (1 - o.b1 ** t);
      const vHat = v[i] / (1 - o.b2 ** t);
      th[i] -= o.lr * mHat / (Math.sqrt(vHat) + o.eps);
    }
  });
  return th;
}

describe('createAdamW', () => {
  const cfg = { lr: 0.1, b1: 0.9, b2: 0.99, eps: 1e-3, wd: 0.5 };
  for (const mode of ['decoupled', 'l2'] as const) {
    it(`matches the written-out update (${mode}) over three steps`, () => {
      const w = tf.variable(tf.tensor1d([1, -2, 0.5]));
      const opt = createAdamW([{ name: 'layer.kernel', variable: w }], {
        learningRate: cfg.lr, beta1: cfg.b1, beta2: cfg.b2, epsilon: cfg.eps, weightDecay: cfg.wd, decayMode: mode,
      });
      const grads = [[0.3, -1, 2], [0.1, 0.2, -0.3], [-0.5, 0.5, 0]];
      const before = tf.memory().numTensors;
      for (const g of grads) {
        const gt = tf.tensor1d(g);
        opt.apply({ 'layer.kernel': gt });
        gt.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      const want = adamRef([1, -2, 0.5], grads, { ...cfg, mode });
      const got = w.dataSync();
      want.forEach((x, i) => expect(got[i]).toBeCloseTo(x, 5));
      expect(opt.step).toBe(3);
      opt.dispose();
      w.dispose();
    });
  }

  it('gives no decay to excluded names and per-group decay to groups', () => {
    const mk = () => tf.variable(tf.tensor1d([2]));
    const ps = [
      { name: 'down.0.conv.bias', variable: mk() },
      { name: 'mid.norm1.gamma', variable: mk() },
      { name: 'classEmbed.table', variable: mk() },
      { name: 'down.0.conv.kernel', variable: mk() },
      { name: 'out.kernel', variable: mk() },
    ];
    const opt = createAdamW(ps, {
      learningRate: 0.1, weightDecay: 0.5, noDecay: ['*.bias', '*norm*', '*embed*', /Embed/], groups: [{ match: ['out.*'], weightDecay: 0.1 }],
    });
    expect(opt.decayOf.get('down.0.conv.bias')).toBe(0);
    expect(opt.decayOf.get('mid.norm1.gamma')).toBe(0);
    expect(opt.decayOf.get('classEmbed.table')).toBe(0);
    expect(opt.decayOf.get('down.0.conv.kernel')).toBe(0.5);
    expect(opt.decayOf.get('out.kernel')).toBe(0.1);
    const g = tf.tensor1d([1]);
    const grads = Object.fromEntries(ps.map((p) => [p.name, g]));
    opt.apply(grads);
    // first step: m̂ = g, v̂ = g², so the Adam part moves by lr·g/(|g|+ε)
    const adam = 0.1 * 1 / (1 + 1e-8);
    expect(ps[0].variable.dataSync()[0]).toBeCloseTo(2 - adam, 6);
    expect(ps[3].variable.dataSync()[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5) - adam, 6);
    expect(ps[4].variable.dataSync()[0]).toBeCloseTo(2 * (1 - 0.1 * 0.1) - adam, 6);
    g.dispose();
    opt.dispose();
    ps.forEach((p) => p.variable.dispose());
  });

  it('saves and restores m, v and step so the next step is the same', () => {
    const w1 = tf.variable(tf.tensor1d([1, 2]));
    const w2 = tf.variable(tf.tensor1d([1, 2]));
    const a = createAdamW([{ name: 'w', variable: w1 }], { learningRate: 0.05 });
    const g = tf.tensor1d([0.5, -1]);
    a.apply({ w: g });
    const b = createAdamW([{ name: 'w', variable: w2 }], { learningRate: 0.05 });
    w2.assign(w1);
    b.loadState(a.state());
    a.apply({ w: g });
    b.apply({ w: g });
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    expect(() => b.loadState({ step: 1, m: {}, v: {} })).toThrow(/no 'm' moment for parameter 'w'/);
    expect(() => b.apply({ nope: g })).toThrow(/'nope'/);
    g.dispose();
    a.dispose();
    b.dispose();
    w1.dispose();
    w2.dispose();
  });
});

describe('createAdamW: refusals and memory', () => {
  it('refuses a non-finite learning rate at creation and at apply, leaving the weights untouched', () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'adamw-lr-check');
    const params = [{ name: 'w', variable: w }];
    for (const lr of [Infinity, -Infinity, NaN]) expect(() => createAdamW(params, { learningRate: lr })).toThrow(`createAdamW: learningRate must be a finite number >= 0, got ${lr}`);
    const opt = createAdamW(params, { learningRate: 0.1 });
    const g = tf.tensor1d([1, 1]);
    expect(() => opt.apply({ w: g }, Infinity)).toThrow('AdamW.apply: learningRate must be a finite number >= 0, got Infinity');
    opt.learningRate = NaN;
    expect(() => opt.apply({ w: g })).toThrow('got NaN');
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    expect(opt.step).toBe(0);
    opt.dispose();
    g.dispose();
    w.dispose();
  });

  it('dispose() frees every tensor it made (no 2 x parameter count leak)', () => {
    const vars = [tf.variable(tf.zeros([3, 3]), true, 'adamw-leak-a'), tf.variable(tf.zeros([4]), true, 'adamw-leak-b')];
    const params = vars.map((variable, i) => ({ name: `p${i}`, variable }));
    const before = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) {
      const opt = createAdamW(params, { learningRate: 1e-3 });
      const grads = { p0: tf.ones([3, 3]), p1: tf.ones([4]) };
      opt.apply(grads);
      tf.dispose(Object.values(grads));
      opt.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(vars);
  });
});
