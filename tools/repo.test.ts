import { describe, expect, it } from 'vitest';
import { brokenLinks, forbiddenText, lineCount, markdownLinks, read, sourceFiles, trackedTextFiles } from './repo.js';

const SELF = ['tools/repo.ts', 'tools/repo.test.ts'];
const files = trackedTextFiles();

/** Most lines a non-test source file may have: past it, split the file by concept. */
const MAX_LINES = 300;

/**
 * Files over MAX_LINES whose split belongs to a change under way; remove a
 * name as soon as its file is split (the test fails while a listed file is
 * already short enough).
 */
const PENDING_SPLITS = new Set<string>([]);

const show = (fs: { file: string; line: number; text: string; why: string }[]) =>
  fs.map((f) => `${f.file}:${f.line}: ${f.why}: ${f.text}`);

describe('the repository speaks only of itself', () => {
  it('finds text files to check', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('README.md');
  });

  it('names no absolute machine path, outside issue number or work session', () => {
    const found = files.filter((f) => !SELF.includes(f)).flatMap((f) => forbiddenText(f, read(f)));
    expect(show(found)).toEqual([]);
  });

  it('links in Markdown only to files that are in the repository', () => {
    const found = files.filter((f) => f.endsWith('.md')).flatMap((f) => brokenLinks(f, read(f)));
    expect(show(found)).toEqual([]);
  });

  it('catches each kind of text it is meant to catch', () => {
    const bad = [
      'runs paused by `/work/quiet.sh`', 'npx vite build --outDir /tmp/pgw/dist', '"source": "/home/me/runs/teacher"',
      'Target (issue 19): rate', 'before this session', 'C:\\Users\\me\\runs',
    ];
    for (const line of bad) expect(forbiddenText('x.md', line), line).toHaveLength(1);
    const good = [
      'inside `worker_threads` (tfjs issues 2079, 3463, 8388)', "import { WorkerPool } from './workers.js';",
      'cd apps/demo && npx -y pnpm@10 cli eval --checkpoint runs/mnist2', 'formatIssues(r.error.issues, prefix)',
      'see https://github.com/tensorflow/tfjs/issues/8388',
    ];
    for (const line of good) expect(forbiddenText('x.md', line), line).toEqual([]);
  });

  it('reads Markdown links outside code and skips URLs and anchors', () => {
    const md = '[a](bench/RESULTS.md) ![b](docs/x.png "t") [c](https://x.org) [d](#top)\n```\n[e](nope.md)\n```\n`[f](g.md)`';
    expect(markdownLinks(md).map((l) => l.target)).toEqual(['bench/RESULTS.md', 'docs/x.png']);
    expect(brokenLinks('README.md', '[gone](bench/BENCHMARK-old.md) [here](bench/RESULTS.md#top)').map((f) => f.text))
      .toEqual(['bench/BENCHMARK-old.md']);
  });
});

describe('source files stay small', () => {
  const sources = sourceFiles(files).filter((f) => !/\.test\.ts$/.test(f));
  const long = sources.filter((f) => lineCount(read(f)) > MAX_LINES);

  it(`has no source file over ${MAX_LINES} lines`, () => {
    expect(sources.length).toBeGreaterThan(50);
    expect(long.filter((f) => !PENDING_SPLITS.has(f)).map((f) => `${f}: ${lineCount(read(f))} lines`)).toEqual([]);
  });

  it('lists as pending only files still over the limit', () => {
    expect([...PENDING_SPLITS].filter((f) => !long.includes(f))).toEqual([]);
  });

  it('skips generated code and counts lines as an editor does', () => {
    expect(sourceFiles(['packages/backend/src/kernels/wasm/winograd.generated.ts', 'packages/a/src/b.ts', 'packages/a/dist/b.js']))
      .toEqual(['packages/a/src/b.ts']);
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
  });
});
