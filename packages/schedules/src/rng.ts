/**
 * A small seeded generator (sfc32, seeded through splitmix32) whose whole
 * state is four integers, so it can be saved in a checkpoint and restored.
 * Every package takes randomness from one of these, never from Math.random,
 * so the same seed gives the same run.
 */
export interface RngState {
  readonly s: readonly [number, number, number, number];
  /** A cached second normal from the Box-Muller pair, or null. */
  readonly spare: number | null;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  nextInt(n: number): number;
  /** Standard normal. */
  normal(): number;
  /** A fresh 31-bit integer seed, for seeded tfjs ops (`tf.randomNormal(shape, 0, 1, 'float32', rng.nextSeed())`). */
  nextSeed(): number;
  /** An independent generator derived from this one (advances this one by one draw). */
  fork(): Rng;
  getState(): RngState;
  setState(state: RngState): void;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** The largest seed: a generator's state is set from 32 bits, so a larger seed would give another seed's numbers. */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * The one rule for seeds (library options, CLI flags, URL parameters): an integer in [0, 2^32 − 1].
 * `name` is how the caller's user wrote it (`seed`, `--seed`, `URL parameter seed`).
 */
export function checkSeed(name: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    const got = typeof seed === 'string' ? `'${seed.slice(0, 40)}'` : typeof seed === 'number' ? String(seed) : typeof seed;
    throw new RangeError(`${name} must be an integer in [0, ${MAX_SEED}] (32 bits); got ${got}`);
  }
  return seed;
}

/** A seed derived from `seed` (seed + k for part k of a job), wrapped into the seed range. */
export function offsetSeed(seed: number, k: number): number {
  return (seed + k) >>> 0;
}

/** A generator of the seed's numbers; the seed must pass `checkSeed`. */
export function createRng(seed: number): Rng {
  checkSeed('createRng: seed', seed);
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = init();
  let spare: number | null = null;
  const u32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Burn in, as the sfc32 authors recommend.
  for (let i = 0; i < 12; i++) u32();
  const rng: Rng = {
    next: () => u32() / 4294967296,
    nextInt: (n: number) => {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`nextInt: n must be a positive integer, got ${n}`);
      return Math.floor((u32() / 4294967296) * n);
    },
    normal: () => {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = u32() / 4294967296;
      const v = u32() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    nextSeed: () => u32() >>> 1,
    fork: () => createRng(u32()),
    getState: () => ({ s: [a, b, c, d], spare }),
    setState: (state: RngState) => {
      [a, b, c, d] = state.s;
      spare = state.spare;
    },
  };
  return rng;
}
