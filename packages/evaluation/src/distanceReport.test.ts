import { describe, expect, it } from 'vitest';
import { distanceReport, distanceReportSeries, quantile } from './distanceReport.js';
import { uniformData } from './testing/fixtures.js';

describe('distanceReport', () => {
  it('quantile interpolates between order statistics like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it('puts copies of training items at distance 0 from the training set and far from the held-out set', () => {
    const d = 50;
    const train = uniformData(40, d, 1);
    const held = uniformData(40, d, 2);
    const samples = train.slice(0, 10 * d);
    const r = distanceReport({ data: samples, shape: [10, d] }, { data: train, shape: [40, d] }, { data: held, shape: [40, d] }, { bins: 5 });
    expect(Array.from(r.train.distances)).toEqual(new Array(10).fill(0));
    expect(r.fractionCloserToTrain).toBe(1);
    // Brute-force nearest held-out distance of the first sample.
    let best = Infinity;
    for (let j = 0; j < 40; j++) {
      let s = 0;
      for (let e = 0; e < d; e++) s += (samples[e]! - held[j * d + e]!) ** 2;
      best = Math.min(best, Math.sqrt(s));
    }
    expect(r.heldOut.distances[0]).toBeCloseTo(best, 10);
    expect(r.histogram.train.reduce((a, b) => a + b, 0)).toBe(10);
    expect(r.histogram.heldOut.reduce((a, b) => a + b, 0)).toBe(10);
    expect(r.histogram.train[0]).toBe(10);
    expect(r.histogram.edges).toHaveLength(6);
    const series = distanceReportSeries(r);
    expect(series[0]!.x[0]).toBeCloseTo((r.histogram.edges[0]! + r.histogram.edges[1]!) / 2, 12);
    expect(series[0]!.y).toEqual(r.histogram.train);
    expect(series[1]!.y).toEqual(r.histogram.heldOut);
  });
});
