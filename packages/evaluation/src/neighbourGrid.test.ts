import { describe, expect, it } from 'vitest';
import { neighbourGrid } from './neighbourGrid.js';
import { uniformData } from './testing/fixtures.js';

describe('neighbourGrid', () => {
  it('puts each sample first in its row, then its nearest training images in order', () => {
    const d = 2 * 2;
    const train = uniformData(6, d, 1);
    // Sample 0 is training image 4 plus a little; sample 1 is far from everything.
    const samples = new Float32Array(2 * d);
    for (let e = 0; e < d; e++) samples[e] = train[4 * d + e]! + 0.01;
    samples.fill(5, d);
    const g = neighbourGrid({ data: samples, shape: [2, 2, 2, 1] }, { data: train, shape: [6, 2, 2, 1] }, { k: 2 });
    expect(g.cols).toBe(3);
    expect(g.n).toBe(6);
    expect(Array.from(g.pixels.subarray(0, d))).toEqual(Array.from(samples.subarray(0, d)));
    expect(Array.from(g.pixels.subarray(d, 2 * d))).toEqual(Array.from(train.subarray(4 * d, 5 * d)));
    expect(g.neighbours.indices[0]).toBe(4);
    // The second neighbour really is the second nearest.
    const dist = (j: number) => Math.hypot(...Array.from({ length: d }, (_, e) => samples[e]! - train[j * d + e]!));
    const order = [0, 1, 2, 3, 4, 5].sort((a, b) => dist(a) - dist(b));
    expect(g.neighbours.indices[1]).toBe(order[1]);
    expect(Array.from(g.pixels.subarray(3 * d, 4 * d))).toEqual(Array.from(samples.subarray(d, 2 * d)));
  });

  it('lays out RGBA images and refuses a channel count viz cannot draw', () => {
    const g = neighbourGrid({ data: new Float32Array(4), shape: [1, 1, 1, 4] }, { data: new Float32Array(8), shape: [2, 1, 1, 4] }, { k: 1 });
    expect({ n: g.n, channels: g.channels, cols: g.cols }).toEqual({ n: 2, channels: 4, cols: 2 });
    expect(() => neighbourGrid({ data: new Float32Array(5), shape: [1, 1, 1, 5] }, { data: new Float32Array(5), shape: [1, 1, 1, 5] }))
      .toThrow(/samples: images must have 1 \(grey\), 2 \(grey \+ alpha\), 3 \(RGB\) or 4 \(RGBA\) channels; got 5/);
  });
});
