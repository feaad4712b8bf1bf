/**
 * The dependency arrows the READMEs show, generated from the package.json
 * files so they cannot drift: `tsx tools/depgraph.ts --write` rewrites the
 * blocks between `<!-- deps:start -->` and `<!-- deps:end -->` in the root
 * README and in each package README; tools/deps.test.ts checks them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishedPackages, ROOT } from './readme.js';

const START = '<!-- deps:start -->';
const END = '<!-- deps:end -->';
const short = (n: string) => n.replace('@tfjs-diffusion/', '');
const code = (n: string) => `\`${n}\``;

interface Info {
  name: string;
  dir: string;
  internal: string[];
  external: string[];
  peers: string[];
  optionalPeers: string[];
  subpaths: string[];
}

export function packageInfos(): Info[] {
  return publishedPackages().map(({ dir, name, path }) => {
    const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
    const deps = Object.keys(pkg.dependencies ?? {}).sort();
    const optional = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => (m as { optional?: boolean }).optional).map(([n]) => n));
    const peers = Object.keys(pkg.peerDependencies ?? {}).sort();
    return {
      name,
      dir,
      internal: deps.filter((d) => d.startsWith('@tfjs-diffusion/')),
      external: deps.filter((d) => !d.startsWith('@tfjs-diffusion/')),
      peers: peers.filter((p) => !optional.has(p)),
      optionalPeers: peers.filter((p) => optional.has(p)),
      subpaths: Object.keys(pkg.exports ?? {}).filter((k) => k !== '.' && k !== './package.json').map((k) => `${name}${k.slice(1)}`),
    };
  });
}

/** The block for one package's README. */
export function packageBlock(info: Info, all: Info[]): string {
  const users = all.filter((o) => o.internal.includes(info.name)).map((o) => code(o.name));
  const lines = [
    `Depends on: ${info.internal.length ? info.internal.map(code).join(', ') : 'no other package of this repository'}` +
      `${info.external.length ? `; from npm ${info.external.map(code).join(', ')}` : ''}.`,
    `Peer dependencies: ${info.peers.length ? info.peers.map(code).join(', ') : 'none'}` +
      `${info.optionalPeers.length ? `; optional: ${info.optionalPeers.map(code).join(', ')}` : ''}.`,
    `Entry points: ${[code(info.name), ...info.subpaths.map(code)].join(', ')}` +
      `${info.subpaths.some((s) => s.endsWith('/node')) ? ' (the main entry runs in a browser and in Node; `/node` needs Node)' : ' (browser and Node)'}.`,
    `Used by: ${users.length ? users.join(', ') : 'the apps'}.`,
  ];
  return lines.map((l) => `- ${l}`).join('\n');
}

/** The arrows of the root README: each package and what it depends on, bottom-up. */
export function rootBlock(all: Info[]): string {
  const order: Info[] = [];
  const placed = new Set<string>();
  while (order.length < all.length) {
    const next = all.filter((i) => !placed.has(i.name) && i.internal.every((d) => placed.has(d)));
    if (!next.length) throw new Error('dependency cycle among the packages');
    for (const i of next) {
      order.push(i);
      placed.add(i.name);
    }
  }
  const width = Math.max(...order.map((i) => short(i.name).length));
  const rows = order.map((i) => `${short(i.name).padEnd(width)}  → ${i.internal.length ? i.internal.map(short).join(', ') : '(nothing of this repository)'}`);
  return ['```text', ...rows, '```'].join('\n');
}

export function replaceBlock(markdown: string, block: string, where: string): string {
  const a = markdown.indexOf(START);
  const b = markdown.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${where} has no ${START} … ${END} block`);
  return `${markdown.slice(0, a + START.length)}\n${block}\n${markdown.slice(b)}`;
}

/** Every README path with the block it should hold. */
export function expectedReadmes(): { path: string; block: string }[] {
  const all = packageInfos();
  return [
    { path: join(ROOT, 'README.md'), block: rootBlock(all) },
    ...all.map((i) => ({ path: join(ROOT, 'packages', i.dir, 'README.md'), block: packageBlock(i, all) })),
  ];
}

if (process.argv.includes('--write')) {
  for (const { path, block } of expectedReadmes()) {
    writeFileSync(path, replaceBlock(readFileSync(path, 'utf8'), block, path));
    console.log(`updated ${path}`);
  }
}
