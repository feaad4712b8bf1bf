import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createEma } from './ema.js';

function param(name: string, values: number[]) {
  return { name, variable: tf.variable(tf.tensor1d(values)) };
}

describe('createEma', () => {
  it('follows diffusers get_decay without warm-up: (1 + s)/(10 + s), s = step - 1, capped at decay', () => {
    const p = param('w', [0]);
    const ema = createEma([p], { decay: 0.5 });
    expect(ema.getDecay(1)).toBe(0);
    expect(ema.getDecay(2)).toBeCloseTo(2 / 11, 12);
    expect(ema.getDecay(3)).toBeCloseTo(3 / 12, 12);
    expect(ema.getDecay(100)).toBe(0.5);
    ema.dispose();
    p.variable.dispose();
  });

  it('follows the warm-up formula 1 - (1 + s/invGamma)^-power, clamped to [minDecay, maxDecay]', () => {
    const p = param('w', [0]);
    const ema = createEma([p], { useEmaWarmup: true, invGamma: 2, power: 0.75, minDecay: 0.3, decay: 0.9 });
    const f = (s: number) => Math.min(0.9, Math.max(0.3, 1 - (1 + s / 2) ** -0.75));
    expect(ema.getDecay(1)).toBe(0);
    for (const step of [2, 3, 5, 50, 10_000]) expect(ema.getDecay(step)).toBeCloseTo(f(step - 1), 12);
    expect(ema.getDecay(2)).toBe(0.3); // 1 - 1.5^-0.75 ≈ 0.262, raised to minDecay
    expect(ema.getDecay(10_000)).toBe(0.9);
    ema.dispose();
    p.variable.dispose();
  });

  it('averages hand-computed steps', () => {
    const p = param('w', [1, -2]);
    const ema = createEma([p], { useEmaWarmup: true, invGamma: 1, power: 1, decay: 0.99 });
    // step 1: decay 0 → shadow copies θ
    p.variable.assign(tf.tensor1d([2, 0]));
    ema.update(1);
    let shadow = [2, 0];
    expect(Array.from(ema.shadow.get('w')!.dataSync())).toEqual(shadow);
    const thetas = [[4, 2], [0, 8], [-1, 1]];
    let step = 2;
    for (const th of thetas) {
      p.variable.assign(tf.tensor1d(th));
      const s = step - 1;
      const d = Math.min(0.99, 1 - (1 + s) ** -1); // = s/(1+s)
      shadow = shadow.map((v, i) => v - (1 - d) * (v - th[i]));
      expect(ema.update(step)).toBeCloseTo(d, 12);
      const got = ema.shadow.get('w')!.dataSync();
      expect(got[0]).toBeCloseTo(shadow[0], 5);
      expect(got[1]).toBeCloseTo(shadow[1], 5);
      step++;
    }
    // power 1, invGamma 1 is the running mean of θ from step 1 on
    expect(shadow[0]).toBeCloseTo((2 + 4 + 0 - 1) / 4, 10);
    ema.dispose();
    p.variable.dispose();
  });

  it('waits updateAfterStep steps and updates only every updateEvery steps', () => {
    const p = param('w', [0]);
    const ema = createEma([p], { updateAfterStep: 3, updateEvery: 2, decay: 0.9 });
    expect(ema.getDecay(4)).toBe(0);
    expect(ema.getDecay(5)).toBeCloseTo(2 / 11, 12);
    p.variable.assign(tf.tensor1d([10]));
    ema.update(3); // skipped (odd)
    expect(ema.shadow.get('w')!.dataSync()[0]).toBe(0);
    ema.update(4); // decay 0: copies
    expect(ema.shadow.get('w')!.dataSync()[0]).toBe(10);
    ema.dispose();
    p.variable.dispose();
  });

  it('swaps the averaged weights in and out, and saves/loads its state', () => {
    const p = param('w', [1, 2]);
    const ema = createEma([p]);
    p.variable.assign(tf.tensor1d([5, 6]));
    const before = tf.memory().numTensors;
    const seen = ema.withAveraged(() => Array.from(p.variable.dataSync()));
    expect(seen).toEqual([1, 2]);
    expect(Array.from(p.variable.dataSync())).toEqual([5, 6]);
    expect(tf.memory().numTensors).toBe(before);
    const st = ema.state();
    const other = createEma([p]);
    other.loadState(st);
    expect(Array.from(other.shadow.get('w')!.dataSync())).toEqual([1, 2]);
    expect(() => other.loadState({ step: 0, decay: 0, shadow: {} })).toThrow(/no average for parameter 'w'/);
    expect(() => other.loadState({ step: 0, decay: 0, shadow: { w: { shape: [3], data: new Float32Array(3) } } })).toThrow(/shape \[3\]/);
    ema.dispose();
    other.dispose();
    p.variable.dispose();
  });
});
