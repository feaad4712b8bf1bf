import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = join(here, '../../../../../shared/fixtures/clip-text-tiny');

describe('README: CLIP text encoder and tokenizer', () => {
  const file = join(here, `readme-clip-${process.pid}.tmp.ts`);
  afterEach(() => rmSync(file, { force: true }));

  it('the example runs as written on a folder of that layout, leaking nothing', async () => {
    const readme = readFileSync(join(here, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## CLIP text encoder and tokenizer'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(code).toContain("const dir = 'stable-diffusion-v1-5';");
    writeFileSync(file, code.replace("const dir = 'stable-diffusion-v1-5';", `const dir = ${JSON.stringify(FIXTURE)};`));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const before = tf.memory().numTensors;
    try {
      await import(/* @vite-ignore */ file);
      expect(log.mock.calls.map((c) => JSON.stringify(c[0]))).toEqual(['[49406,320,1125,539,320,2368,49407]', '[2,77,32]']);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      log.mockRestore();
    }
  });
});
