import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { memorizationRate } from './memorization.js';
import { nearestNeighbours } from './nearestNeighbours.js';
import { normalData, uniformData } from './testing/fixtures.js';

describe('nearestNeighbours', () => {
  it('matches a brute-force search, with chunks smaller than the reference', () => {
    const d = 20;
    const ref = normalData(57, d, 1);
    const q = normalData(9, d, 2);
    const before = tf.memory().numTensors;
    const nn = nearestNeighbours({ data: q, shape: [9, d] }, { data: ref, shape: [57, d] }, 3, { chunkSize: 10 });
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 9; i++) {
      const all = Array.from({ length: 57 }, (_, j) => {
        let s = 0;
        for (let e = 0; e < d; e++) s += (q[i * d + e]! - ref[j * d + e]!) ** 2;
        return { j, dist: Math.sqrt(s) };
      }).sort((a, b) => a.dist - b.dist);
      for (let k = 0; k < 3; k++) {
        expect(nn.indices[i * 3 + k]).toBe(all[k]!.j);
        expect(nn.distances[i * 3 + k]).toBeCloseTo(all[k]!.dist, 10);
      }
    }
  });

  it('accepts tensors and leaves no tensor behind', () => {
    const a = tf.tensor4d(uniformData(4, 12, 3), [4, 2, 2, 3]);
    const before = tf.memory().numTensors;
    const nn = nearestNeighbours(a, a, 1);
    expect(Array.from(nn.indices)).toEqual([0, 1, 2, 3]);
    expect(Array.from(nn.distances)).toEqual([0, 0, 0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});

describe('memorizationRate', () => {
  const d = 784;
  const train = uniformData(200, d, 7);
  const heldOut = uniformData(30, d, 8);

  it('counts exact copies as memorized and held-out images as not', () => {
    const samples = new Float32Array(60 * d);
    for (let i = 0; i < 30; i++) samples.set(train.subarray((i * 6) * d, (i * 6 + 1) * d), i * d);
    samples.set(heldOut, 30 * d);
    const r = memorizationRate({ data: samples, shape: [60, 28, 28, 1] }, { data: train, shape: [200, 28, 28, 1] }, { chunkSize: 64 });
    expect(r.rate).toBe(0.5);
    for (let i = 0; i < 30; i++) {
      expect(r.memorized[i]).toBe(true);
      expect(r.nearestIndex[i]).toBe(i * 6);
      expect(r.nearestDistance[i]).toBe(0);
    }
    for (let i = 30; i < 60; i++) expect(r.memorized[i]).toBe(false);
  });

  it('follows the 1/3 ratio: a copy plus noise is memorized only while NN1/NN2 < 1/3', () => {
    // x = y0 + δ u with u ⟂-ish: NN1 = δ‖u‖, NN2 ≈ ‖y0 − y1‖; pick δ on both sides of the threshold.
    const y = uniformData(2, d, 9);
    const u = normalData(1, d, 10);
    let gap = 0;
    let un = 0;
    for (let e = 0; e < d; e++) {
      gap += (y[e]! - y[d + e]!) ** 2;
      un += u[e]! ** 2;
    }
    const samples = new Float32Array(2 * d);
    [0.2, 0.45].forEach((frac, i) => {
      const delta = (frac * Math.sqrt(gap)) / Math.sqrt(un);
      for (let e = 0; e < d; e++) samples[i * d + e] = y[e]! + delta * u[e]!;
    });
    const r = memorizationRate({ data: samples, shape: [2, d] }, { data: y, shape: [2, d] });
    expect(r.memorized[0]).toBe(true);
    expect(r.memorized[1]).toBe(false);
    expect(r.ratios[0]).toBeGreaterThan(0.15);
    expect(r.ratios[0]).toBeLessThan(0.25);
  });

  it('names a bad ratio', () => {
    expect(() => memorizationRate({ data: train, shape: [200, d] }, { data: train, shape: [200, d] }, { ratio: 0 })).toThrow(/ratio must be in/);
  });
});
