import * as tf from '@tensorflow/tfjs';

/**
 * Images (or vectors, as [N, 1, 1, D]) in host memory: NHWC float32 in
 * [-1, 1], any size, C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) for
 * images. Plain arrays are cheap to slice, to send to worker threads and to
 * keep for a whole run without tensor lifetimes.
 */
export interface ImageDataset {
  images: Float32Array;
  shape: [number, number, number, number];
  /** int class ids, one per example. */
  labels?: Int32Array;
  classNames?: string[];
  /** A caption per example ('' for none). */
  captions?: string[];
  /** Examples with one group id are variants of one source (an emoji's skin tones): `split` keeps them on one side. */
  groups?: Int32Array;
  /** Rows of the source that were malformed and left out. */
  skipped?: number;
}

export function checkDataset(ds: ImageDataset, where: string): void {
  const { shape } = ds;
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${where}: dataset.shape must be [N, H, W, C] non-negative integers; got ${JSON.stringify(shape)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (ds.images.length !== size) throw new Error(`${where}: dataset.images has ${ds.images.length} values; shape [${shape}] needs ${size}`);
  if (ds.labels && ds.labels.length !== shape[0]) throw new Error(`${where}: dataset.labels has ${ds.labels.length} entries for ${shape[0]} examples`);
  if (ds.captions && ds.captions.length !== shape[0]) throw new Error(`${where}: dataset.captions has ${ds.captions.length} entries for ${shape[0]} examples`);
  if (ds.groups && ds.groups.length !== shape[0]) throw new Error(`${where}: dataset.groups has ${ds.groups.length} entries for ${shape[0]} examples`);
}

/** Number of examples. */
export const sizeOf = (ds: ImageDataset): number => ds.shape[0];

/** The examples at `indices`, in that order (a copy). */
export function take(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const [n, h, w, c] = ds.shape;
  const d = h * w * c;
  const images = new Float32Array(indices.length * d);
  const labels = ds.labels ? new Int32Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`take: index ${i} is outside [0, ${n - 1}]`);
    images.set(ds.images.subarray(i * d, (i + 1) * d), k * d);
    if (labels) labels[k] = ds.labels![i]!;
  }
  const captions = ds.captions ? Array.from(indices, (i) => ds.captions![i]!) : undefined;
  const groups = ds.groups ? Int32Array.from(indices, (i) => ds.groups![i]!) : undefined;
  return { images, shape: [indices.length, h, w, c], labels, classNames: ds.classNames, ...(captions ? { captions } : {}), ...(groups ? { groups } : {}) };
}

/** Tensors for a dataset or a batch: images [N, H, W, C] float32 and labels [N] int32. */
export function toTensor(ds: Pick<ImageDataset, 'images' | 'shape' | 'labels'>): { images: tf.Tensor4D; labels?: tf.Tensor1D } {
  return {
    images: tf.tensor4d(ds.images, ds.shape, 'float32'),
    labels: ds.labels ? tf.tensor1d(ds.labels, 'int32') : undefined,
  };
}

/** Indices of each class, in dataset order. */
export function classIndices(ds: ImageDataset, where: string): number[][] {
  if (!ds.labels) throw new Error(`${where}: needs labels, and this dataset has none`);
  const k = Math.max(ds.classNames?.length ?? 0, ...Array.from(ds.labels, (l) => l + 1));
  const out: number[][] = Array.from({ length: k }, () => []);
  ds.labels.forEach((l, i) => out[l]!.push(i));
  return out;
}

// Mixes seeds into one 31-bit seed (for per-epoch and per-batch generators).
export function mixSeed(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ Math.floor(x / 2 ** 32), 0x297a2d39) >>> 0;
  }
  return (h ^ (h >>> 16)) & 0x7fffffff;
}
