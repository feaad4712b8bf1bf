// Runs the demo CLI as a user does, through its documented launchers, for the fault-injection tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(DEMO_DIR, '../..');

/**
 * The documented launchers: `pnpm … run cli -- <args>` from anywhere (paths from where it was typed),
 * `node --conditions=source --import tsx src/cli.ts <args>` from apps/demo, and the root `pnpm demo`.
 */
export type Launcher = 'pnpm-cli' | 'node' | 'pnpm-demo';

export function command(launcher: Launcher, args: string[]): { cmd: string; argv: string[]; cwd?: string } {
  switch (launcher) {
    case 'pnpm-cli':
      return { cmd: 'npx', argv: ['-y', 'pnpm@10', '--dir', REPO_DIR, '--filter', '@tfjs-diffusion/demo', 'run', 'cli', '--', ...args] };
    case 'pnpm-demo':
      return { cmd: 'npx', argv: ['-y', 'pnpm@10', '--dir', REPO_DIR, 'demo', ...args] };
    case 'node':
      return { cmd: process.execPath, argv: ['--conditions=source', '--import', 'tsx', 'src/cli.ts', ...args], cwd: DEMO_DIR };
  }
}

export interface Running {
  child: ChildProcess;
  output(): string;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does. */
  signal(sig: NodeJS.Signals): void;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Starts the CLI in its own process group (so a signal reaches launcher and CLI alike, as from a terminal). */
export function start(launcher: Launcher, args: string[], opts: { cwd?: string } = {}): Running {
  const c = command(launcher, args);
  const env = { ...process.env };
  // The test runner's own package-script variables must not leak into the launched CLI.
  delete env.INIT_CWD;
  delete env.npm_lifecycle_event;
  const child = spawn(c.cmd, c.argv, { cwd: c.cwd ?? opts.cwd ?? tmpdir(), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((res) => {
    child.on('close', (code, signal) => res({ code, signal, output: out }));
  });
  return {
    child,
    output: () => out,
    signal: (sig) => { try { process.kill(-child.pid!, sig); } catch { /* gone */ } },
    done,
  };
}

export async function run(launcher: Launcher, args: string[], opts: { cwd?: string } = {}) {
  return start(launcher, args, opts).done;
}

/** Polls `check` every `ms` until it returns a value other than undefined, or throws after `timeout`. */
export async function waitFor<T>(check: () => T | undefined, what: string, timeout = 60_000, ms = 10): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, ms));
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `demo-faults-${prefix}-`));
}

/** Tiny model and data: each step takes a few milliseconds on one thread. */
export const TINY = [
  '--batch-size', '4', '--train-size', '64', '--val-size', '8', '--threads', '1', '--log-every', '1',
  '--validate-every', '1000', '--sample-every', '1000', '--sample-steps', '2', '--grid-cols', '1',
  '--model-overrides', '{"blockOutChannels":[8,8],"normNumGroups":4,"embedDim":16,"timeFeatureDim":8}',
];

/** Steps in metrics.jsonl (torn lines skipped). */
export function metricSteps(run: string): number[] {
  const f = join(run, 'metrics.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').flatMap((l) => {
    try { return [(JSON.parse(l) as { step: number }).step]; } catch { return []; }
  });
}

/** The checkpoint `latest` names, and its step. */
export function latest(run: string): { name: string; step: number; dir: string } | undefined {
  const f = join(run, 'checkpoints', 'latest');
  if (!existsSync(f)) return undefined;
  const name = readFileSync(f, 'utf8').trim();
  return { name, step: Number(/ckpt-(\d+)/.exec(name)?.[1]), dir: join(run, 'checkpoints', name) };
}

/** Every safetensors file of a checkpoint folder, by name, as bytes. */
export function checkpointBytes(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort()) out[f] = readFileSync(join(dir, f));
  return out;
}

/** The F32 tensors of a safetensors file by name (the header's offsets; no library, so a corrupt file is read as it is). */
export function readF32(buf: Buffer): Record<string, Float32Array> {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__' || v.dtype !== 'F32') continue;
    const [a, b] = v.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    out[k] = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return out;
}

/** Overwrites every F32 value of the tensors whose names match with `value` (in place). */
export function poisonF32(buf: Buffer, match: (name: string) => boolean, value: number): number {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  let count = 0;
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__' || v.dtype !== 'F32' || !match(k)) continue;
    for (let off = 8 + n + v.data_offsets[0]; off < 8 + n + v.data_offsets[1]; off += 4) { buf.writeFloatLE(value, off); count++; }
  }
  return count;
}
