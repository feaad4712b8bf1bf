/**
 * Unknown-option checks. TypeScript catches a misspelt option at compile
 * time; JavaScript callers (and objects typed wider than the options type)
 * would otherwise have it ignored silently and run with the default.
 */
import { quote } from './check.js';

type Missing<T, K extends readonly unknown[]> = Exclude<keyof T & string, K[number]>;

/**
 * The accepted keys of an options type, listed once:
 * `optionKeys<FooOptions>()(['a', 'b'])`. While a key of `FooOptions` is
 * missing from the list, TypeScript asks for a second argument named
 * `missing` whose type is the missing keys, so the list cannot fall behind
 * the interface; a key that is not in the interface is a type error too.
 */
export function optionKeys<T extends object>() {
  return <const K extends readonly (keyof T & string)[]>(
    keys: K,
    ..._exhaustive: [Missing<T, K>] extends [never] ? [] : [missing: Missing<T, K>]
  ): K => Object.freeze(keys);
}

/**
 * PyTorch, diffusers and k-diffusion spellings that neither case, underscores
 * nor edit distance lead to; each maps to the keys it may mean, first match wins.
 */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  lr: ['learningRate', 'lr'],
  learningrate: ['learningRate', 'lr'],
  eps: ['epsilon', 'eps'],
  betas: ['beta1', 'beta2'],
  usewarmup: ['useEmaWarmup', 'warmup', 'warmupSteps'],
  warmup: ['useEmaWarmup', 'warmupSteps', 'warmup'],
  emawarmup: ['useEmaWarmup'],
  generator: ['seed', 'rng'],
  randomstate: ['seed', 'rng'],
  cfg: ['guidanceScale', 'guidance'],
  cfgscale: ['guidanceScale', 'guidance'],
  steps: ['numInferenceSteps', 'steps', 'numSteps'],
  numsteps: ['numInferenceSteps', 'steps', 'numSteps'],
  maxsteps: ['steps', 'numSteps', 'maxSteps'],
  numtrainsteps: ['steps', 'numSteps', 'maxSteps'],
  maxgradnorm: ['clipNorm', 'maxGradNorm', 'gradClip'],
  clipgradnorm: ['clipNorm', 'maxGradNorm', 'gradClip'],
  gradclip: ['clipNorm', 'maxGradNorm'],
  emadecay: ['decay', 'emaDecay'],
  snrgamma: ['minSnrGamma', 'gamma'],
  predictiontype: ['prediction', 'predictionType'],
  device: ['prefer', 'backend'],
  backend: ['backend', 'prefer'],
  batch: ['batchSize'],
  bs: ['batchSize'],
};

/** Lower case without `_`/`-`, so `use_ema_warmup`, `USE-EMA-WARMUP` and `useEmaWarmup` meet. */
function normalize(key: string): string {
  return key.replace(/[_\-\s]/g, '').toLowerCase();
}

/** Optimal-string-alignment distance (Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The accepted key `key` most likely means, or undefined: the same key up to
 * case and underscores (snake_case of a camelCase key), a known PyTorch or
 * diffusers synonym, a key that contains it or that it contains (`spacing` →
 * `timestepSpacing`), another ending of the same word (`stratify` → `stratified`),
 * else the nearest by edit distance within a third of its length.
 */
export function nearestOption(key: string, accepted: readonly string[]): string | undefined {
  // torch's `lr` stands for the learning rate inside longer names too (`lr_scale`).
  const k = normalize(key).replace(/^lr(?=.)/, 'learningrate');
  // No option is that long, and the edit distance of a 10 MB key would allocate gigabytes.
  if (k.length === 0 || k.length > 64) return undefined;
  const byNorm = accepted.find((a) => normalize(a) === k);
  if (byNorm !== undefined) return byNorm;
  for (const s of SYNONYMS[k] ?? []) if (accepted.includes(s)) return s;
  if (k.length >= 3) {
    const within = accepted.filter((a) => normalize(a).includes(k) || (normalize(a).length >= 3 && k.includes(normalize(a))));
    if (within.length > 0) return within.reduce((b, a) => (Math.abs(a.length - key.length) < Math.abs(b.length - key.length) ? a : b));
  }
  // Another ending of the same word (`stratify` → `stratified`): most of the shorter one is a shared prefix.
  const stem = accepted.filter((a) => {
    const n = normalize(a);
    let i = 0;
    while (i < n.length && i < k.length && n[i] === k[i]) i++;
    return i >= 4 && i >= 0.75 * Math.min(n.length, k.length);
  });
  if (stem.length === 1) return stem[0];
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(k.length / 3)) + 1;
  for (const a of accepted) {
    const dist = editDistance(k, normalize(a));
    if (dist < bestD) [best, bestD] = [a, dist];
  }
  return best;
}

/** A key as it appears in a message: never more than 40 characters, whatever the caller passed. */
function shown(key: string): string {
  return key.length > 40 ? `${key.slice(0, 37)}...` : key;
}

/**
 * Refuses an options object with a key not in `accepted`: a TypeError naming
 * `where` (the function), the key, the nearest accepted key and the accepted
 * keys (values are never echoed). `undefined` (options omitted) passes, and so
 * does any value of a known key, `undefined` included. `path` names a nested
 * options object (`'guidance'` → `'guidance.scale'`).
 */
export function checkOptions(where: string, options: unknown, accepted: readonly string[], path?: string): void {
  if (options === undefined) return;
  const prefix = path === undefined ? '' : `${path}.`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options;
    throw new TypeError(`${where}: ${path === undefined ? 'options' : `option '${path}'`} must be an object; got ${got}`);
  }
  for (const key of Object.keys(options)) {
    if (accepted.includes(key)) continue;
    const near = nearestOption(key, accepted);
    const hint = near === undefined ? '.' : `; did you mean '${prefix}${near}'?`;
    const list = accepted.length === 0 ? 'none' : quote(accepted);
    throw new TypeError(`${where}: unknown option '${prefix}${shown(key)}'${hint} Accepted${path === undefined ? '' : ` in ${path}`}: ${list}`);
  }
}
