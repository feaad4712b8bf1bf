import { describe, expect, it } from 'vitest';
import { checkNesting, showList, showValue } from './index.js';

const deep = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown;

describe('bounded quotes for error messages', () => {
  it('quotes small values as JSON', () => {
    expect(showValue([8, 16])).toBe('[8, 16]');
    expect(showValue('x')).toBe('"x"');
    expect(showValue({ a: 1, b: [true, null] })).toBe('{"a": 1, "b": [true, null]}');
    expect(showValue(undefined)).toBe('undefined');
  });

  it('cuts a 10 MB array, a long string and deep nesting to about 200 characters', () => {
    const big = Array.from({ length: 1_000_000 }, (_, i) => i * 1000);
    const s = showValue(big);
    expect(s.length).toBeLessThanOrEqual(220);
    expect(s).toMatch(/^\[0, 1000, 2000, .*… [\d,]+ more\]$/);
    expect(showValue('x'.repeat(10_000_000)).length).toBeLessThanOrEqual(220);
    expect(showValue({ ['k'.repeat(1e6)]: 1 }).length).toBeLessThanOrEqual(220);
    expect(showValue(deep(100_000))).toBe('[[[[…]]]]');
    expect(showValue(new Float32Array(1e6))).toBe('Float32Array(1000000)');
  });

  it('lists names up to about 200 characters, then says how many more', () => {
    const names = Array.from({ length: 200_000 }, (_, i) => `extra.${i}.kernel`);
    const s = showList(names);
    expect(s.length).toBeLessThanOrEqual(240);
    expect(s).toMatch(/^extra\.0\.kernel, extra\.1\.kernel, .*, … and 19\d,\d{3} more$/);
    expect(showList(['a', 'b'])).toBe('a, b');
  });

  it('checkNesting refuses 100,000 levels without recursing, and passes a config', () => {
    expect(() => checkNesting(deep(100_000), 'config.json')).toThrow('config.json: nested more than 64 levels deep');
    expect(() => checkNesting({ model: { overrides: { blockOutChannels: [8, 16] } } }, 'x')).not.toThrow();
  });
});
