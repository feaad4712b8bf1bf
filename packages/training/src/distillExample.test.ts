import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('README, progressive distillation', () => {
  const file = join(here, `distill-example-${process.pid}.tmp.ts`);
  afterEach(() => rmSync(file, { force: true }));

  it('the example runs as written, and the 2-step student beats the teacher at 2 steps', async () => {
    const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Progressive distillation'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    writeFileSync(file, code);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(/* @vite-ignore */ file);
      const line = log.mock.calls.map((c) => String(c[0])).find((l) => l.startsWith('2 steps:')) ?? '';
      console.info(line);
      const m = /student (\d+) of 256 .* teacher (\d+) of 256/.exec(line);
      expect(m, line).not.toBeNull();
      const [student, teacher] = [Number(m![1]), Number(m![2])];
      expect(student).toBeGreaterThan(teacher + 50);
    } finally {
      log.mockRestore();
    }
  }, 900_000);
});
