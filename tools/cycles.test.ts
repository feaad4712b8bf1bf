import { describe, expect, it } from 'vitest';
import { checkCycles, findCycles, importsOf, repoGraph, resolveImport } from './cycles.js';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe('import cycles', () => {
  it('has none in the repository beyond those being removed', () => {
    const { failing } = checkCycles(findCycles(repoGraph()));
    expect(failing.map((c) => c.join(' → '))).toEqual([]);
  });

  it('sees the training package files and their imports', () => {
    const g = repoGraph();
    expect(g.size).toBeGreaterThan(200);
    expect(g.get('packages/training/src/validation.ts')).toContain('packages/training/src/targets.ts');
    expect(g.get('packages/training/src/node.ts')).toContain('packages/training/src/workers.ts');
  });

  it('finds every cycle, including through type-only imports and re-exports', () => {
    const text = "import type { A } from './a.js';\nexport { b } from './b.js';\nimport x from 'pkg';\nconst y = await import('./c.js');\nexport * from '../d/index.js';";
    expect(importsOf(text)).toEqual(['./a.js', './b.js', '../d/index.js']);
    const known = new Set(['packages/p/src/a.ts', 'packages/p/src/d/index.ts']);
    expect(resolveImport('packages/p/src/x.ts', './a.js', known)).toBe('packages/p/src/a.ts');
    expect(resolveImport('packages/p/src/x.ts', './d', known)).toBe('packages/p/src/d/index.ts');
    expect(resolveImport('packages/p/src/x.ts', './nope.js', known)).toBeUndefined();

    expect(findCycles(graph({ a: ['b'], b: ['c'], c: [] }))).toEqual([]);
    expect(findCycles(graph({ a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'] }))).toEqual([['a', 'b', 'c', 'a'], ['d', 'd']]);
  });

  it('fails on a cycle not pending and names pending entries that are gone', () => {
    const cycles = [['a', 'b', 'a'], ['c', 'd', 'c']];
    expect(checkCycles(cycles, ['c', 'z'])).toEqual({ failing: [['a', 'b', 'a']], stale: ['z'] });
  });
});
