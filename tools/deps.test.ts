// A package depends on what its src/ imports, nothing more and nothing less:
// installing one package from npm must not bring packages it never loads.
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectedReadmes } from './depgraph.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.[cm]?tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Package names imported by `file`: static, type-only, re-exports and dynamic import(). */
export function importsOf(source: string): string[] {
  const out = new Set<string>();
  // `(?<!['"])`: a string 'from' (an option key) followed by another string is no import.
  const re = /(?:(?<!['"])\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1]!;
    if (spec.startsWith('.') || spec.startsWith('/') || builtins.has(spec) || spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    out.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return [...out];
}

const isTest = (f: string) => /\.test\.tsx?$/.test(f) || /[/\\]testing[/\\]/.test(f);

const packages = readdirSync(join(root, 'packages')).filter((d) => {
  try {
    readFileSync(join(root, 'packages', d, 'package.json'));
    return true;
  } catch {
    return false;
  }
});

describe.each(packages)('@tfjs-diffusion/%s dependencies', (dir) => {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const all = files(join(pkgDir, 'src'));
  const used = (list: string[]) => [...new Set(list.flatMap((f) => importsOf(readFileSync(f, 'utf8'))))].filter((n) => n !== pkg.name).sort();
  const runtime = used(all.filter((f) => !isTest(f)));
  const declared = [...new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])].sort();

  it('declares exactly what src/ imports (dependencies and peerDependencies)', () => {
    // A package loaded by name at run time (an optional native peer through a
    // guarded import(name), a dataset package through require.resolve, font
    // files) counts as used when its name is a string in src/.
    const sources = all.filter((f) => !isTest(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
    const named = (n: string) => new RegExp(`['"\`]${n.replace(/[/.]/g, (c) => `\\${c}`)}['"/]`).test(sources);
    expect(declared).toEqual([...new Set([...runtime, ...declared.filter(named)])].sort());
  });

  it('has what its tests import among its dependencies or devDependencies', () => {
    // The root's devDependencies are the shared test tooling (vitest, playwright-core, ...).
    const rootDev = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies ?? {});
    const available = new Set([...declared, ...Object.keys(pkg.devDependencies ?? {}), ...rootDev]);
    const missing = used(all.filter(isTest)).filter((n) => !available.has(n));
    expect(missing, `imported by tests of ${relative(root, pkgDir)}`).toEqual([]);
  });
});

it('reads every kind of import', () => {
  const src = `import a from 'x';\nimport type { B } from '@s/y/sub';\nexport * from "z";\nimport 'side';\nconst m = await import('dyn');\nimport { c } from './local.js';\nimport { d } from 'node:fs';\nconst keys = ['kind', 'from', 'to'];`;
  expect(importsOf(src).sort()).toEqual(['@s/y', 'dyn', 'side', 'x', 'z']);
});

describe('README dependency blocks', () => {
  it.each(expectedReadmes().map((r) => [relative(root, r.path), r.block]))('%s matches the package.json files (regenerate: tsx tools/depgraph.ts --write)', (path, block) => {
    const text = readFileSync(join(root, path), 'utf8');
    const m = /<!-- deps:start -->\n([\s\S]*?)\n<!-- deps:end -->/.exec(text);
    expect(m?.[1]).toBe(block);
  });
});
