import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '@tfjs-diffusion/schedules/node';
import { basename, join, resolve } from 'node:path';
import { acquireRunLock, LOCK_FILE, type RunLock } from './lock.js';
import { checkDemoConfig } from './schema.js';
import type { DemoConfig } from './presets.js';
import { checkNesting, showValue } from '@tfjs-diffusion/schedules';

export interface RunPaths {
  dir: string;
  config: string;
  metrics: string;
  lossPlot: string;
  samples: string;
  checkpoints: string;
}

export function runPaths(dir: string): RunPaths {
  const d = resolve(dir);
  return {
    dir: d,
    config: join(d, 'config.json'),
    metrics: join(d, 'metrics.jsonl'),
    lossPlot: join(d, 'loss.png'),
    samples: join(d, 'samples'),
    checkpoints: join(d, 'checkpoints'),
  };
}

/** runs/<preset>-<UTC timestamp>, e.g. runs/mnist-tiny-20261124-191500. */
export function defaultRunDir(preset: string, now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${preset}-${ts}`);
}

/**
 * Creates a run folder and takes its lock; call it only after every check has passed. Refuses an
 * --out that holds a run (use --resume) or any other non-empty folder. The "holds a run" check is
 * repeated under the lock, so two processes starting at once cannot both pass it.
 * `cleanup()` removes what this made (for a failure before the first checkpoint).
 */
export function createRunFolder(dir: string, config: unknown, log?: (s: string) => void): RunPaths & { lock: RunLock; cleanup(): void } {
  const p = runPaths(dir);
  const holdsRun = () => existsSync(p.config);
  const refuseRun = () => new Error(`--out ${p.dir} already holds a run; use --resume ${p.dir} to continue it or choose another --out`);
  let existed = false;
  if (existsSync(p.dir)) {
    existed = true;
    if (!statSync(p.dir).isDirectory()) throw new Error(`--out ${p.dir} is a file, not a folder; choose another --out`);
    if (holdsRun()) {
      // A run in progress there: name its writer.
      acquireRunLock(p.dir).release();
      throw refuseRun();
    }
    const entries = readdirSync(p.dir).filter((e) => e !== LOCK_FILE);
    if (entries.length) {
      throw new Error(`--out ${p.dir} is an existing folder that is not a run (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); choose a new or empty folder`);
    }
  }
  mkdirSync(p.dir, { recursive: true });
  const lock = acquireRunLock(p.dir, { log });
  try {
    if (holdsRun()) throw refuseRun();
    mkdirSync(p.samples, { recursive: true });
    mkdirSync(p.checkpoints, { recursive: true });
    writeJsonAtomic(p.config, config);
  } catch (e) {
    lock.release();
    throw e;
  }
  const cleanup = () => {
    for (const f of [p.config, p.metrics, p.lossPlot]) rmSync(f, { force: true });
    for (const d of [p.samples, p.checkpoints]) rmSync(d, { recursive: true, force: true });
    lock.release();
    if (!existed) rmSync(p.dir, { recursive: true, force: true });
  };
  return { ...p, lock, cleanup };
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomicSync(path, JSON.stringify(value, null, 2) + '\n');
}

export function writeFileAtomic(path: string, data: Uint8Array): void {
  writeFileAtomicSync(path, data);
}

/**
 * Writes a new file, never replacing one: `name.png`, else `name-2.png`, `name-3.png`, ...
 * Whole or absent (temporary file, then a hard link, which fails if the name exists). Returns the path written.
 */
export function writeFileNew(path: string, data: Uint8Array): string {
  const dot = path.lastIndexOf('.');
  const [stem, ext] = dot > path.lastIndexOf('/') ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
  return writeFileAtomicSync(path, data, {
    commit: (tmp) => {
      for (let k = 1; ; k++) {
        const target = k === 1 ? path : `${stem}-${k}${ext}`;
        try {
          linkSync(tmp, target);
          return target;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
    },
  });
}

/** What `fine-tune --lora-rank` records in the run's config.json (a resume rebuilds the same adapter). */
export interface RunLora {
  rank: number;
  alpha?: number;
  targets?: string[];
}

export interface RunConfigFile {
  demo: DemoConfig;
  model: Record<string, unknown>;
  dataset: { numClasses: number; height: number; width: number; channels: number; classNames: string[] };
  fineTunedFrom?: string;
  freeze?: string[];
  /** A LoRA run: only this adapter trains on the weights of `fineTunedFrom`. */
  lora?: RunLora;
}

export function readRunConfig(dir: string): RunConfigFile {
  const p = runPaths(dir);
  if (!existsSync(p.config)) throw new Error(`${p.dir} is not a run folder (no config.json)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(p.config, 'utf8'));
  } catch (e) {
    throw new Error(`${p.config}: not valid JSON (${(e as Error).message}); restore it from a copy, or start a new run`);
  }
  return checkRunConfig(parsed, p.config);
}

/** A run's config.json as parsed, checked field by field; `where` names the file. */
export function checkRunConfig(parsed: unknown, where: string): RunConfigFile {
  checkNesting(parsed, where);
  const o = parsed as Partial<RunConfigFile> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error(`${where}: must hold a JSON object with demo, model and dataset; got ${showValue(parsed)}`);
  for (const k of ['demo', 'model', 'dataset'] as const) {
    if (typeof o[k] !== 'object' || o[k] === null) throw new Error(`${where}: the field '${k}' is missing or not an object`);
  }
  checkDemoConfig(o.demo, () => `${where} (under "demo"): `);
  const d = o.dataset!;
  for (const k of ['numClasses', 'height', 'width', 'channels'] as const) {
    if (!Number.isInteger(d[k]) || d[k] < 1) throw new Error(`${where}: dataset.${k} must be a positive integer; got ${showValue(d[k])}`);
  }
  return o as RunConfigFile;
}

export interface MetricsLine {
  step: number;
  loss?: number;
  valLoss?: number;
  valLossEma?: number;
  [k: string]: unknown;
}

/** The metrics lines; a torn line (a write cut by a crash or power loss) is skipped, not fatal. */
export function readMetrics(path: string): MetricsLine[] {
  if (!existsSync(path)) return [];
  const out: MetricsLine[] = [];
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    try {
      const v = JSON.parse(l) as MetricsLine;
      if (typeof v === 'object' && v !== null && typeof v.step === 'number') out.push(v);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/** The step of a checkpoint folder named ckpt-XXXXXXXX, else undefined. */
export function checkpointStep(path: string): number | undefined {
  const m = /^ckpt-(\d+)$/.exec(basename(path));
  return m ? Number(m[1]) : undefined;
}
