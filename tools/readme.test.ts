// Each package README opens with an example that runs as written: this runs
// it, from the workspace sources, in an empty working folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstExample, PENDING_EXAMPLES as PENDING, publishedPackages, ROOT } from './readme.js';

const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');

describe.each(publishedPackages())('$name README', ({ dir, path }) => {
  const example = firstExample(readFileSync(join(path, 'README.md'), 'utf8'));

  it('has a TypeScript example first', () => {
    expect(example, `${dir}/README.md has no \`\`\`ts block`).toBeDefined();
  });

  // A package with its own README test, src/example.test.ts (which also
  // checks what the example prints), runs it there. (Not named readme*:
  // packers ship every file called README, whatever its folder.)
  const ownTest = existsSync(join(path, 'src', 'example.test.ts'));

  it.skipIf(dir in PENDING || ownTest)('runs its first example as written', () => {
    // Inside the package folder, so the package and its dependencies resolve
    // as they do for the package's own files; run from an empty folder.
    const file = join(path, `.readme-example-${process.pid}.ts`);
    const cwd = mkdtempSync(join(tmpdir(), `readme-${dir}-`));
    writeFileSync(file, example!);
    try {
      const r = spawnSync(tsx, ['--conditions=source', file], { cwd, encoding: 'utf8', timeout: 600_000, env: { ...process.env, NODE_OPTIONS: '' } });
      expect(r.status, `${dir}/README.md example failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    } finally {
      rmSync(file, { force: true });
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 600_000);
});

it('finds the first ts block', () => {
  expect(firstExample('# x\n\n```sh\nls\n```\n\n```ts\nconst a = 1;\n```\n\n```ts\nb\n```')).toBe('const a = 1;\n');
  expect(firstExample('no code')).toBeUndefined();
});
