import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('README', () => {
  const file = join(here, `readme-example-${process.pid}.tmp.ts`);
  afterEach(() => rmSync(file, { force: true }));

  it('the first example runs as written, and its samples land on the mixture', async () => {
    const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    writeFileSync(file, code);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(/* @vite-ignore */ file);
      console.info(log.mock.calls.map((c) => c.join(' ')).join('\n'));
      const line = log.mock.calls.map((c) => String(c[0])).find((l) => l.includes('of 256 samples'));
      const near = Number(/^(\d+) of 256/.exec(line ?? '')?.[1]);
      // Most samples of a fitted model sit on one of the two Gaussians (an untrained one: almost none).
      expect(near).toBeGreaterThan(200);
    } finally {
      log.mockRestore();
    }
  }, 300_000);
});
