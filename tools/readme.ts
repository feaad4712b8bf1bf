// The first code example of a package README: what a reader copies first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * READMEs whose first example does not run yet, each owned by its own
 * change; remove a name as soon as its example runs (the README test and the
 * pack check skip these and say so).
 */
export const PENDING_EXAMPLES: Record<string, string> = {};

/** The first ```ts (or ```js) block of a markdown text, or undefined. */
export function firstExample(markdown: string): string | undefined {
  const m = /^```(?:ts|typescript|js|javascript)\s*\n([\s\S]*?)^```/m.exec(markdown);
  return m?.[1];
}

/** Published packages (not private) under packages/, by folder name. */
export function publishedPackages(): { dir: string; name: string; path: string }[] {
  return readdirSync(join(ROOT, 'packages'))
    .map((dir) => ({ dir, path: join(ROOT, 'packages', dir) }))
    .flatMap(({ dir, path }) => {
      try {
        const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
        return pkg.private ? [] : [{ dir, name: pkg.name as string, path }];
      } catch {
        return [];
      }
    });
}
