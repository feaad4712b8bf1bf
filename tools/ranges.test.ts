import { describe, expect, it } from 'vitest';
import { registryRangeProblems, satisfies } from './ranges.js';

describe('dependency ranges of a packed tarball', () => {
  it('reads caret, tilde and exact ranges as npm does', () => {
    expect(satisfies('^0.1.0', '0.1.0')).toBe(true);
    expect(satisfies('^0.1.0', '0.1.7')).toBe(true);
    expect(satisfies('^0.1.0', '0.2.0')).toBe(false);
    expect(satisfies('^1.2.0', '1.9.0')).toBe(true);
    expect(satisfies('^1.2.0', '2.0.0')).toBe(false);
    expect(satisfies('^1.2.0', '1.1.9')).toBe(false);
    expect(satisfies('^0.0.3', '0.0.4')).toBe(false);
    expect(satisfies('~1.2.0', '1.2.5')).toBe(true);
    expect(satisfies('~1.2.0', '1.3.0')).toBe(false);
    expect(satisfies('1.2.0', '1.2.0')).toBe(true);
    expect(satisfies('workspace:^', '1.2.0')).toBe(false);
  });

  it('refuses workspace: ranges and ranges our packages do not satisfy', () => {
    const versions = new Map([['@x/a', '0.2.0'], ['@x/b', '0.1.0']]);
    const manifest = {
      dependencies: { '@x/a': '^0.1.0', '@x/b': '^0.1.0', other: '^9.0.0' },
      devDependencies: { '@x/c': 'workspace:^' },
    };
    expect(registryRangeProblems('@x/p', manifest, versions)).toEqual([
      "@x/p: dependencies.@x/a is '^0.1.0', which @x/a 0.2.0 does not satisfy",
      "@x/p: devDependencies.@x/c is still 'workspace:^' in the tarball",
    ]);
    expect(registryRangeProblems('@x/p', { dependencies: { '@x/a': '^0.2.0' } }, versions)).toEqual([]);
  });
});
