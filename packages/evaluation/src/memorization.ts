import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { NEIGHBOUR_OPTION_KEYS, nearestNeighbours, type NeighbourOptions } from './nearestNeighbours.js';
import type { ImageSet } from './types.js';

export interface MemorizationOptions extends NeighbourOptions {
  /** A sample counts as memorized when d(NN1) / d(NN2) < ratio; default 1/3. */
  ratio?: number;
}

export interface MemorizationReport {
  /** Fraction of samples counted as memorized. */
  rate: number;
  /** Per sample: d(nearest training item) / d(second nearest). */
  ratios: Float64Array;
  /** Per sample: whether it is counted as memorized. */
  memorized: boolean[];
  /** Per sample: index of the nearest training item and its distance. */
  nearestIndex: Int32Array;
  nearestDistance: Float64Array;
}

const MEMORIZATION_KEYS = optionKeys<MemorizationOptions>()([...NEIGHBOUR_OPTION_KEYS, 'ratio']);

/**
 * The memorization criterion of Yoon et al. (2023, "Diffusion probabilistic
 * models generalize when they fail to memorize") and Gu et al. (2023,
 * "On memorization in diffusion models"): a generated sample is a copy when
 * its nearest training item is much closer than the second nearest,
 * ‖x − NN1‖ / ‖x − NN2‖ < 1/3 (ℓ2 over pixels).
 */
export function memorizationRate(samples: ImageSet, train: ImageSet, options: MemorizationOptions = {}): MemorizationReport {
  checkOptions('memorizationRate', options, MEMORIZATION_KEYS);
  const ratio = options.ratio ?? 1 / 3;
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`ratio must be in (0, 1]; got ${ratio}`);
  const nn = nearestNeighbours(samples, train, 2, { chunkSize: options.chunkSize });
  const ratios = new Float64Array(nn.n);
  const memorized: boolean[] = [];
  const nearestIndex = new Int32Array(nn.n);
  const nearestDistance = new Float64Array(nn.n);
  let count = 0;
  for (let i = 0; i < nn.n; i++) {
    const d1 = nn.distances[2 * i]!;
    const d2 = nn.distances[2 * i + 1]!;
    // Two identical training items make any copy of them ambiguous: ratio 1.
    ratios[i] = d2 > 0 ? d1 / d2 : 1;
    const m = ratios[i]! < ratio;
    memorized.push(m);
    if (m) count++;
    nearestIndex[i] = nn.indices[2 * i]!;
    nearestDistance[i] = d1;
  }
  return { rate: count / nn.n, ratios, memorized, nearestIndex, nearestDistance };
}
