import * as tf from '@tensorflow/tfjs';
import { gatherPerRow } from './empiricalLogits.js';
import { setSize, toHost, toMatrix } from './imageSet.js';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import type { ImageSet } from './types.js';

export interface NeighbourOptions {
  /** Reference items per matMul; default 2048. */
  chunkSize?: number;
}

export const NEIGHBOUR_OPTION_KEYS = optionKeys<NeighbourOptions>()(['chunkSize']);

/** The k nearest reference items of each query, nearest first. */
export interface Neighbours {
  /** Number of queries and neighbours per query. */
  n: number;
  k: number;
  /** Row-major [n, k] indices into the reference set. */
  indices: Int32Array;
  /** Row-major [n, k] Euclidean distances, recomputed exactly in float64. */
  distances: Float64Array;
}

/**
 * Exact k-nearest neighbours in ℓ2 over flattened items. Candidates come from
 * ‖a‖² − 2a·b + ‖b‖² with one matMul per chunk of the reference set and a
 * running top-k; the reported distances are then recomputed from the items
 * themselves in float64, so exact copies give exactly 0.
 */
export function nearestNeighbours(queries: ImageSet, reference: ImageSet, k: number, options: NeighbourOptions = {}): Neighbours {
  checkOptions('nearestNeighbours', options, NEIGHBOUR_OPTION_KEYS);
  const q = setSize(queries, 'queries');
  const r = setSize(reference, 'reference');
  if (q.d !== r.d) throw new Error(`queries and reference must have the same item size; got ${q.d} and ${r.d}`);
  if (!Number.isInteger(k) || k < 1 || k > r.n) throw new RangeError(`k must be an integer in [1, ${r.n}] (the reference size); got ${k}`);
  const chunkSize = options.chunkSize ?? 2048;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer; got ${chunkSize}`);
  // A few extra candidates guard against float32 ties reordering the true top k.
  const kc = Math.min(r.n, k + 4);
  const a = toMatrix(queries, 'queries');
  const ref = toMatrix(reference, 'reference');
  const aSq = tf.tidy(() => tf.sum(tf.square(a), 1, true));
  let vals: tf.Tensor2D | undefined;
  let idx: tf.Tensor2D | undefined;
  try {
    for (let start = 0; start < r.n; start += chunkSize) {
      const size = Math.min(chunkSize, r.n - start);
      const next = tf.tidy(() => {
        const b = tf.slice(ref, [start, 0], [size, r.d]);
        const bSq = tf.reshape(tf.sum(tf.square(b), 1), [1, size]);
        const negD2 = tf.neg(tf.add(tf.sub(aSq, tf.mul(2, tf.matMul(a, b, false, true))), bSq));
        const top = tf.topk(negD2, Math.min(kc, size));
        let v = top.values as tf.Tensor2D;
        let i = tf.add(top.indices, tf.scalar(start, 'int32')) as tf.Tensor2D;
        if (vals && idx) {
          const allV = tf.concat([vals, v], 1);
          const allI = tf.concat([idx, i], 1);
          const best = tf.topk(allV, Math.min(kc, allV.shape[1]));
          v = best.values as tf.Tensor2D;
          i = gatherPerRow(allI, best.indices as tf.Tensor2D);
        }
        return [v, i];
      });
      vals?.dispose();
      idx?.dispose();
      [vals, idx] = next as [tf.Tensor2D, tf.Tensor2D];
    }
  } finally {
    a.dispose();
    ref.dispose();
    aSq.dispose();
    vals?.dispose();
  }
  const candidates = idx!;
  const cand = candidates.dataSync() as Int32Array;
  const kFound = candidates.shape[1];
  candidates.dispose();
  const qh = toHost(queries, 'queries').data;
  const rh = toHost(reference, 'reference').data;
  const d = q.d;
  const indices = new Int32Array(q.n * k);
  const distances = new Float64Array(q.n * k);
  const pairs: { i: number; d2: number }[] = [];
  for (let row = 0; row < q.n; row++) {
    pairs.length = 0;
    for (let c = 0; c < kFound; c++) {
      const j = cand[row * kFound + c]!;
      let d2 = 0;
      for (let e = 0; e < d; e++) {
        const diff = qh[row * d + e]! - rh[j * d + e]!;
        d2 += diff * diff;
      }
      pairs.push({ i: j, d2 });
    }
    pairs.sort((x, y) => x.d2 - y.d2 || x.i - y.i);
    for (let c = 0; c < k; c++) {
      indices[row * k + c] = pairs[c]!.i;
      distances[row * k + c] = Math.sqrt(pairs[c]!.d2);
    }
  }
  return { n: q.n, k, indices, distances };
}
