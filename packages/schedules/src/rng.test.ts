import { describe, expect, test } from 'vitest';
import { createRng } from './rng.js';

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
