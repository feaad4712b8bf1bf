import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

describe('README: the text-conditioned U-Net example', () => {
  it('is in the README as written, runs, and prints what its comments say', async () => {
    const code = readFileSync(new URL('../examples/textConditioned.ts', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${code}\`\`\``);
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map((v) => (Array.isArray(v) ? `[ ${v.join(', ')} ]` : String(v))).join(' ')));
    try {
      // A computed specifier: the example lives outside src/ (and outside tsc's rootDir).
      await import(new URL('../examples/textConditioned.ts', import.meta.url).href);
    } finally {
      log.mockRestore();
    }
    expect(lines[0]).toBe('792387 32');
    expect(lines[1]).toBe('[ 2, 16, 16, 3 ]');
    expect(lines[2]).toMatch(/^UNet2DConditionModel 3192\d{3}$/);
  });
});
