import { toHost } from './imageSet.js';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { NEIGHBOUR_OPTION_KEYS, nearestNeighbours, type NeighbourOptions, type Neighbours } from './nearestNeighbours.js';
import type { ImageSet } from './types.js';

export interface NeighbourGridOptions extends NeighbourOptions {
  /** Nearest training images shown beside each sample; default 3. */
  k?: number;
}

/** Pixels and layout for `imageGrid` of `@tfjs-diffusion/viz` (or `imageGridPng` of its `/node` entry). */
export interface NeighbourGrid {
  /** Row-major images, one grid row per sample: the sample, then its k nearest training images. */
  pixels: Float32Array;
  n: number;
  height: number;
  width: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA: what viz's grids draw. */
  channels: 1 | 2 | 3 | 4;
  cols: number;
  neighbours: Neighbours;
}

const NEIGHBOUR_GRID_KEYS = optionKeys<NeighbourGridOptions>()([...NEIGHBOUR_OPTION_KEYS, 'k']);

/**
 * Lays out each sample next to its nearest training images, the usual way
 * to see copies (Somepalli et al. 2023; Carlini et al. 2023).
 */
export function neighbourGrid(samples: ImageSet, train: ImageSet, options: NeighbourGridOptions = {}): NeighbourGrid {
  checkOptions('neighbourGrid', options, NEIGHBOUR_GRID_KEYS);
  const k = options.k ?? 3;
  const shape = samples.shape;
  if (shape.length !== 4 || train.shape.length !== 4) {
    throw new Error(`samples and train must have shape [N, H, W, C]; got [${shape.join(', ')}] and [${train.shape.join(', ')}]`);
  }
  const [, height, width, channels] = shape as [number, number, number, number];
  if (channels < 1 || channels > 4) throw new Error(`samples: images must have 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels; got ${channels}`);
  const neighbours = nearestNeighbours(samples, train, k, { chunkSize: options.chunkSize });
  const s = toHost(samples, 'samples');
  const t = toHost(train, 'train');
  const cols = k + 1;
  const pixels = new Float32Array(s.n * cols * s.d);
  for (let i = 0; i < s.n; i++) {
    pixels.set(s.data.subarray(i * s.d, (i + 1) * s.d), i * cols * s.d);
    for (let j = 0; j < k; j++) {
      const idx = neighbours.indices[i * k + j]!;
      pixels.set(t.data.subarray(idx * t.d, (idx + 1) * t.d), (i * cols + j + 1) * s.d);
    }
  }
  return { pixels, n: s.n * cols, height, width, channels: channels as NeighbourGrid['channels'], cols, neighbours };
}
