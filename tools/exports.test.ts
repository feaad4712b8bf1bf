import { describe, expect, it } from 'vitest';
import { duplicateNames, exportsOf, packageEntries, type EntryExports } from './exports.js';

/**
 * Names two packages still both export while one change under way makes them
 * one; remove a name once it has a single home (the test fails while a listed
 * name is no longer duplicated).
 */
const PENDING_DUPLICATES = new Set<string>([]);

describe('the public API of each package', () => {
  const entries = packageEntries();

  it('reads every entry of every published package', () => {
    expect(entries.length).toBeGreaterThanOrEqual(15);
    const training = entries.find((e) => e.pkg === '@tfjs-diffusion/training' && e.subpath === '.')!;
    expect(training.names).toContain('createTrainer');
    expect(training.names).toContain('fit');
  });

  it('lists its exports by name: no entry re-exports a whole module', () => {
    expect(entries.filter((e) => e.stars.length).map((e) => `${e.file}: export * from ${e.stars.join(', ')}`)).toEqual([]);
  });

  it('gives each exported name one home: no two packages export the same name', () => {
    const dups = [...duplicateNames(entries)].filter(([n]) => !PENDING_DUPLICATES.has(n)).map(([n, w]) => `${n}: ${w.join(', ')}`);
    expect(dups).toEqual([]);
  });

  it('lists as pending only names still exported twice', () => {
    const dups = duplicateNames(entries);
    expect([...PENDING_DUPLICATES].filter((n) => !dups.has(n))).toEqual([]);
  });

  it('reads names, stars and declarations from an entry', () => {
    const text = [
      "export { a, type B, c as d } from './x.js';", "export type { E } from './e.js';", "export * from './star.js';",
      "export * as ns from './ns.js';", 'export const f = 1, g = 2;', 'export function h() {}', 'export interface I {}',
      'const hidden = 3;', 'export { hidden as shown };',
    ].join('\n');
    expect(exportsOf(text)).toEqual({ names: ['a', 'B', 'd', 'E', 'ns', 'f', 'g', 'h', 'I', 'shown'], stars: ['./star.js'] });
    const e = (pkg: string, names: string[], subpath = '.'): EntryExports => ({ pkg, subpath, file: '', names, stars: [] });
    expect([...duplicateNames([e('p', ['x', 'y']), e('p', ['x'], './node'), e('q', ['y'])])]).toEqual([['y', ['p', 'q']]]);
  });
});
