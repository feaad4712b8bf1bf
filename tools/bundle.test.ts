// Every package's main entry must run in a browser: bundled by esbuild for
// `platform: 'browser'` (as a web app's bundler would), nothing may need a
// Node built-in, and the package's own code may not touch Node globals.
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((d) => {
  try {
    return !JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')).private;
  } catch {
    return false;
  }
});

// Packages whose browser-safe split has not landed yet, each with its reason
// (empty now: every main entry passes).
const PENDING = new Set<string>([]);

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// Optional native peers, loaded with a guarded dynamic import() in Node only.
const optionalNative = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

// Marks every bare import but the workspace packages external.
const onlyOurs: Plugin = {
  name: 'only-ours',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@tfjs-diffusion/') ? undefined : { path: a.path, external: true }));
  },
};

async function bundle(pkg: string, external: string[], plugins: Plugin[] = []) {
  const errors: Message[] = [];
  const result = await build({
    entryPoints: [join(root, 'packages', pkg, 'src', 'index.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    // The workspace resolves to TypeScript sources, as in the tests.
    conditions: ['source'],
    external,
    logLevel: 'silent',
    metafile: true,
    plugins,
  }).catch((e: { errors?: Message[] }) => {
    errors.push(...(e.errors ?? []));
    return undefined;
  });
  return { result, errors };
}

describe.each(packages)('@tfjs-diffusion/%s main entry in a browser bundle', (pkg) => {
  const pending = PENDING.has(pkg);
  it.skipIf(pending)('bundles with no Node built-in reachable', async () => {
    const { result, errors } = await bundle(pkg, optionalNative);
    const messages = errors.map((e) => `${e.location?.file ?? '?'}: ${e.text}`);
    expect(messages).toEqual([]);
    const inputs = Object.keys(result!.metafile.inputs);
    expect(inputs.filter((p) => builtins.has(p) || p.startsWith('node:'))).toEqual([]);
    // (A Node built-in that a bundle needs fails to resolve for the browser
    // platform; tfjs-backend-wasm's worker source mentions some inside a
    // string, guarded for Node, which is fine.)
  }, 120_000);

  it.skipIf(pending)('its own code touches no Node global (Buffer, __dirname, createRequire)', async () => {
    // Everything but the workspace packages external: only this repository's code is scanned.
    const { result, errors } = await bundle(pkg, [], [onlyOurs]);
    expect(errors.map((e) => e.text)).toEqual([]);
    const ours = result!.outputFiles[0]!.text;
    expect(ours.match(/\bBuffer\b|__dirname|__filename|createRequire/g) ?? []).toEqual([]);
  }, 120_000);
});

it('the pending list names only packages that exist', () => {
  for (const p of PENDING) expect(packages).toContain(p);
});
