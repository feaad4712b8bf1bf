import { describe, expect, test } from 'vitest';
import { checkSeed, createRng, MAX_SEED, offsetSeed } from './rng.js';
import { scheduleFromDiffusersConfig } from './diffusers-config.js';
import { makeSchedule, MAX_TRAIN_TIMESTEPS } from './schedule.js';

describe('createRng', () => {
  test('same seed, same stream; different seed, different stream', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
  });

  test('state round trip resumes the stream exactly', () => {
    const a = createRng(7);
    for (let i = 0; i < 3; i++) a.normal();
    const s = a.getState();
    const rest = [a.normal(), a.next(), a.nextInt(10)];
    const b = createRng(0);
    b.setState(JSON.parse(JSON.stringify(s)));
    expect([b.normal(), b.next(), b.nextInt(10)]).toEqual(rest);
  });

  test('uniform and normal moments', () => {
    const r = createRng(1);
    const n = 200_000;
    let su = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < n; i++) {
      su += r.next();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    // Standard errors: 0.29/sqrt(n) = 6.5e-4 and 1/sqrt(n) = 2.2e-3; allow ~5 of them.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(3.5e-3);
    expect(Math.abs(sn / n)).toBeLessThan(0.011);
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(0.016);
  });

  test('nextInt covers its range evenly and rejects bad n', () => {
    const r = createRng(3);
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 40_000; i++) counts[r.nextInt(4)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => r.nextInt(0)).toThrow(/positive integer/);
    expect(() => createRng(NaN)).toThrow(/seed/);
  });
});

describe('one seed rule: an integer in [0, 2^32 − 1]', () => {
  const first = (seed: number) => Array.from({ length: 4 }, createRng(seed).next);
  test('seeds that used to give another seed\'s numbers are refused, naming the setting', () => {
    // 2^32 gave seed 1's numbers, -1 seed 0's and 1.5 seed 1's.
    for (const bad of [2 ** 32, 2 ** 32 + 1, -1, 1.5, NaN, Infinity]) {
      expect(() => createRng(bad)).toThrow(`createRng: seed must be an integer in [0, ${MAX_SEED}] (32 bits); got ${bad}`);
    }
    expect(() => checkSeed('--seed', '7')).toThrow("--seed must be an integer in [0, 4294967295] (32 bits); got '7'");
    expect(checkSeed('seed', MAX_SEED)).toBe(4294967295);
  });

  test('every seed in range has its own stream; the old mapping of seeds below 2^32 is kept', () => {
    expect(first(MAX_SEED)).not.toEqual(first(0));
    expect(first(MAX_SEED)).not.toEqual(first(1));
    // The streams of seeds 42 and 2^32 − 1 as the earlier releases gave them.
    expect(first(42).slice(0, 2)).toEqual([0.23955312534235418, 0.5859209857881069]);
    expect(first(MAX_SEED)[0]).toBe(0.3291638479568064);
    expect(offsetSeed(MAX_SEED, 1)).toBe(0);
    expect(offsetSeed(7, 3)).toBe(10);
  });
});

describe('the training-timesteps limit, checked before the schedule is built', () => {
  test('makeSchedule and a scheduler config refuse 1e8 timesteps at once, naming the key', () => {
    const t0 = performance.now();
    expect(() => makeSchedule({ numTrainTimesteps: 1e8 })).toThrow(`numTrainTimesteps must be an integer in [2, ${MAX_TRAIN_TIMESTEPS}]; got 100000000`);
    expect(() => scheduleFromDiffusersConfig({ num_train_timesteps: 1e8 })).toThrow('num_train_timesteps must be an integer in [2, 100000]; got 100000000');
    expect(performance.now() - t0).toBeLessThan(100);
    expect(makeSchedule({ numTrainTimesteps: MAX_TRAIN_TIMESTEPS }).alphasCumprod.length).toBe(100_000);
  });
});
