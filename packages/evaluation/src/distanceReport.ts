import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { NEIGHBOUR_OPTION_KEYS, nearestNeighbours, type NeighbourOptions } from './nearestNeighbours.js';
import type { ImageSet } from './types.js';

export interface DistanceSummary {
  /** Per sample: ℓ2 distance to the nearest item of the reference set. */
  distances: Float64Array;
  mean: number;
  /** Quantiles by linear interpolation between order statistics (numpy's default). */
  quantiles: { q: number; value: number }[];
}

export interface DistanceReport {
  /** Distances from each sample to its nearest training item. */
  train: DistanceSummary;
  /** Distances from each sample to its nearest held-out item. */
  heldOut: DistanceSummary;
  /** Shared bins over both distributions: `edges` has bins + 1 entries. */
  histogram: { edges: number[]; train: number[]; heldOut: number[] };
  /** Fraction of samples nearer to the training set than to the held-out set. */
  fractionCloserToTrain: number;
}

export interface DistanceReportOptions extends NeighbourOptions {
  /** Number of histogram bins; default 30. */
  bins?: number;
  /** Quantiles to report; default [0.05, 0.25, 0.5, 0.75, 0.95]. */
  quantiles?: number[];
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1]; got ${q}`);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

function summarize(distances: Float64Array, qs: number[]): DistanceSummary {
  const sorted = Float64Array.from(distances).sort();
  let sum = 0;
  for (const d of distances) sum += d;
  return { distances, mean: sum / distances.length, quantiles: qs.map((q) => ({ q, value: quantile(sorted, q) })) };
}

const DISTANCE_REPORT_KEYS = optionKeys<DistanceReportOptions>()([...NEIGHBOUR_OPTION_KEYS, 'bins', 'quantiles']);

/**
 * Distance from each generated sample to its nearest training item versus
 * to its nearest held-out item (as in Carlini et al. 2023 and Somepalli et
 * al. 2023). A model that generalizes puts samples about as far from the
 * training set as from unseen data of the same distribution (use a held-out
 * set of the training set's size); a copying model puts them much nearer
 * the training set.
 */
export function distanceReport(samples: ImageSet, train: ImageSet, heldOut: ImageSet, options: DistanceReportOptions = {}): DistanceReport {
  checkOptions('distanceReport', options, DISTANCE_REPORT_KEYS);
  const bins = options.bins ?? 30;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer; got ${bins}`);
  const qs = options.quantiles ?? [0.05, 0.25, 0.5, 0.75, 0.95];
  const nn = { chunkSize: options.chunkSize };
  const dt = nearestNeighbours(samples, train, 1, nn).distances;
  const dh = nearestNeighbours(samples, heldOut, 1, nn).distances;
  let lo = Infinity;
  let hi = -Infinity;
  let closer = 0;
  for (let i = 0; i < dt.length; i++) {
    lo = Math.min(lo, dt[i]!, dh[i]!);
    hi = Math.max(hi, dt[i]!, dh[i]!);
    if (dt[i]! < dh[i]!) closer++;
  }
  if (hi === lo) hi = lo + 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const count = (ds: Float64Array) => {
    const c = new Array<number>(bins).fill(0);
    for (const d of ds) c[Math.min(bins - 1, Math.floor(((d - lo) / (hi - lo)) * bins))]!++;
    return c;
  };
  return {
    train: summarize(dt, qs),
    heldOut: summarize(dh, qs),
    histogram: { edges, train: count(dt), heldOut: count(dh) },
    fractionCloserToTrain: closer / dt.length,
  };
}

/**
 * The report's two histograms as line series over the bin centres, ready for
 * `linePlotSvg({ series })` of `@tfjs-diffusion/viz`.
 */
export function distanceReportSeries(report: DistanceReport): { name: string; x: number[]; y: number[] }[] {
  const e = report.histogram.edges;
  const centres = e.slice(0, -1).map((v, i) => (v + e[i + 1]!) / 2);
  return [
    { name: 'to nearest training item', x: centres, y: report.histogram.train.slice() },
    { name: 'to nearest held-out item', x: centres, y: report.histogram.heldOut.slice() },
  ];
}
