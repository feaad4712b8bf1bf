import { checkOptions, createRng, optionKeys, type Rng } from '@tfjs-diffusion/schedules';
import { checkDataset, classIndices, take, type ImageDataset } from './dataset.js';

function shuffleInPlace<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Splits `total` into parts proportional to `sizes` that sum to `total` exactly (largest remainders). */
function apportion(sizes: number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]! += 1;
    left--;
  }
  return out;
}

export interface SplitOptions {
  /** A fraction in (0, 1) or a count of validation examples (of groups, when the dataset has `groups`). */
  validation: number;
  seed?: number;
  /** Keep class proportions in both parts. Default true when the dataset has labels. */
  stratified?: boolean;
}

const SPLIT_KEYS = optionKeys<SplitOptions>()(['validation', 'seed', 'stratified']);

/**
 * A seeded, disjoint train/validation split; same seed, same split. Both
 * parts are shuffled. A dataset with `groups` is split by group: all the
 * examples of a group (an emoji and its skin tones) land on one side, and
 * `validation` counts groups (stratified by each group's first label).
 */
export function split(ds: ImageDataset, opts: SplitOptions): { train: ImageDataset; validation: ImageDataset } {
  checkOptions('split', opts, SPLIT_KEYS);
  checkDataset(ds, 'split');
  const rng = createRng(opts.seed ?? 0);
  const stratified = opts.stratified ?? ds.labels !== undefined;
  if (!ds.groups) {
    const { val, train } = pick(ds.shape[0], opts.validation, stratified ? classIndices(ds, 'split (stratified)') : undefined, rng, 'examples');
    return { train: take(ds, shuffleInPlace(train, rng)), validation: take(ds, shuffleInPlace(val, rng)) };
  }
  const members = new Map<number, number[]>();
  ds.groups.forEach((g, i) => (members.get(g) ?? members.set(g, []).get(g)!).push(i));
  const units = [...members.values()];
  let byClass: number[][] | undefined;
  if (stratified) {
    if (!ds.labels) throw new Error('split (stratified): needs labels, and this dataset has none');
    byClass = [];
    units.forEach((m, u) => (byClass![ds.labels![m[0]!]!] ??= []).push(u));
    byClass = Array.from(byClass, (c) => c ?? []);
  }
  const { val, train } = pick(units.length, opts.validation, byClass, rng, 'groups');
  const expand = (us: number[]) => shuffleInPlace(us.flatMap((u) => units[u]!), rng);
  return { train: take(ds, expand(train)), validation: take(ds, expand(val)) };
}

// Chooses `validation` of n units (examples or groups), per class when byClass is given.
function pick(n: number, v: number, byClass: number[][] | undefined, rng: Rng, what: string): { val: number[]; train: number[] } {
  const count = v > 0 && v < 1 ? Math.round(v * n) : v;
  if (!Number.isInteger(count) || count < 1 || count >= n) {
    throw new RangeError(`split: validation must be a fraction in (0, 1) or a count in [1, ${n - 1}] for ${n} ${what}; got ${v}`);
  }
  if (byClass) {
    const shuffled = byClass.map((ix) => shuffleInPlace(ix.slice(), rng));
    const quota = apportion(shuffled.map((ix) => ix.length), count);
    return { val: shuffled.flatMap((ix, c) => ix.slice(0, quota[c])), train: shuffled.flatMap((ix, c) => ix.slice(quota[c])) };
  }
  const all = shuffleInPlace(Array.from({ length: n }, (_, i) => i), rng);
  return { val: all.slice(0, count), train: all.slice(count) };
}

const SUBSET_KEYS = optionKeys<NonNullable<Parameters<typeof subset>[2]>>()(['balanced', 'seed']);

/**
 * n examples chosen with a seed; `balanced` takes ⌊n/K⌋ of each of the K
 * classes and one more from n mod K classes picked at random.
 */
export function subset(ds: ImageDataset, n: number, opts: { balanced?: boolean; seed?: number } = {}): ImageDataset {
  checkOptions('subset', opts, SUBSET_KEYS);
  checkDataset(ds, 'subset');
  const N = ds.shape[0];
  if (!Number.isInteger(n) || n < 1 || n > N) throw new RangeError(`subset: n must be an integer in [1, ${N}] (the dataset size); got ${n}`);
  const rng = createRng(opts.seed ?? 0);
  if (!opts.balanced) return take(ds, shuffleInPlace(Array.from({ length: N }, (_, i) => i), rng).slice(0, n));
  if (!ds.labels) throw new Error('subset: balanced needs labels, and this dataset has none');
  const byClass = classIndices(ds, 'subset').filter((ix) => ix.length > 0).map((ix) => shuffleInPlace(ix.slice(), rng));
  const K = byClass.length;
  const extra = new Set(shuffleInPlace(Array.from({ length: K }, (_, i) => i), rng).slice(0, n % K));
  const chosen: number[] = [];
  byClass.forEach((ix, c) => {
    const q = Math.floor(n / K) + (extra.has(c) ? 1 : 0);
    if (q > ix.length) throw new RangeError(`subset: a balanced subset of ${n} needs ${q} examples of class ${ds.labels![ix[0]!]}, which has ${ix.length}`);
    chosen.push(...ix.slice(0, q));
  });
  return take(ds, shuffleInPlace(chosen, rng));
}
