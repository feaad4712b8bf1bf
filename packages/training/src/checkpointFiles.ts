// Checkpoint folders on disk (Node): atomic writes, rotation, clean-up after
// a kill, and reading any of a run folder, a checkpoints folder or a ckpt-* folder.
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { writeFileAtomic } from '@tfjs-diffusion/schedules/node';
import { CHECKPOINT_STATE, CHECKPOINT_WEIGHTS, assertFiniteCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { CHECKPOINT_LATEST, CHECKPOINT_NAME, findCheckpointIn, readCheckpointAt } from './checkpointFolder.js';
import { writeModelFolder } from './modelFolderFiles.js';
import { nodeFolder, removeStaleTemporaries } from './nodeFolder.js';
import type { TrainerOptions } from './options.js';
import type { Trainer } from './fitTypes.js';
import { createTrainer } from './trainer.js';

const LATEST = CHECKPOINT_LATEST;
const CKPT = CHECKPOINT_NAME;

export interface WriteCheckpointOptions {
  /** Checkpoints kept, newest first (older ones are deleted after the new one is in place). Default 2; 0 keeps all. */
  keep?: number;
  /**
   * Also write `modelDir/model.safetensors` (the inference weights: EMA when the
   * run has one) and, if absent, `modelDir/config.json`, so that folder is a model folder.
   */
  modelDir?: string;
}

const WRITE_CHECKPOINT_KEYS = optionKeys<WriteCheckpointOptions>()(['keep', 'modelDir']);

/**
 * Writes `dir/ckpt-<step>/{checkpoint.safetensors,state.json}` inside a
 * temporary folder, renames it into place, then updates `dir/latest`
 * (temporary file + rename). Until that last rename the previous checkpoint
 * is the one `latest` names, so a crash never leaves a half-written one in
 * use. A state with NaN/Inf anywhere is refused before anything is written,
 * so rotation never deletes the last finite checkpoint for a diverged one.
 */
export async function writeCheckpoint(dir: string, ck: Checkpoint, opts: WriteCheckpointOptions = {}): Promise<string> {
  checkOptions('writeCheckpoint', opts, WRITE_CHECKPOINT_KEYS);
  const keep = opts.keep ?? 2;
  if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`writeCheckpoint: keep must be a non-negative integer; got ${opts.keep}`);
  assertFiniteCheckpoint(ck, `for ${dir} at step ${ck.state.step}`);
  const files = encodeCheckpoint(ck);
  await mkdir(dir, { recursive: true });
  await removeStaleTemporaries(dir);
  const name = `ckpt-${String(ck.state.step).padStart(8, '0')}`;
  const tmp = join(dir, `tmp-${name}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    // 'wx': the folder was just made; a file planted in it meanwhile is refused, not written through.
    await writeFile(join(tmp, CHECKPOINT_WEIGHTS), files.weights, { flag: 'wx' });
    await writeFile(join(tmp, CHECKPOINT_STATE), files.state, { flag: 'wx' });
    const final = join(dir, name);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await writeFileAtomic(join(dir, LATEST), name);
  if (opts.modelDir !== undefined) await writeModelFolder(opts.modelDir, ck);
  if (keep > 0) {
    const all = (await readdir(dir)).filter((f) => CKPT.test(f)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) {
      if (old !== name) await rm(join(dir, old), { recursive: true, force: true });
    }
  }
  return join(dir, name);
}

/**
 * The checkpoint folder `path` means: itself if it holds state.json, the one
 * `path/latest` names (a checkpoints folder), or the one `path/checkpoints/latest`
 * names (a run folder). Undefined when `path` is none of these.
 */
export async function findCheckpoint(path: string): Promise<string | undefined> {
  const found = await findCheckpointIn(nodeFolder(path));
  return found === undefined ? undefined : found === '' ? path : join(path, found);
}

/** As `findCheckpoint`, but an error naming what was looked for when there is none. */
export async function resolveCheckpoint(path: string): Promise<string> {
  const found = await findCheckpoint(path);
  if (!found) throw new Error(`checkpoint: '${path}' holds neither ${CHECKPOINT_STATE} nor a 'latest' file naming a checkpoint (nor checkpoints/latest)`);
  return found;
}

/** Reads a checkpoint from a run folder, a checkpoints folder or one ckpt-* folder. */
export async function readCheckpoint(path: string): Promise<Checkpoint & { path: string }> {
  const dir = await resolveCheckpoint(path);
  return { ...(await readCheckpointAt(nodeFolder(dir), '')), path: dir };
}

/** Saves `trainer`'s state into the checkpoints folder `dir` (see writeCheckpoint). */
export async function saveCheckpoint(trainer: Trainer, dir: string, opts: WriteCheckpointOptions = {}): Promise<string> {
  checkOptions('saveCheckpoint', opts, WRITE_CHECKPOINT_KEYS);
  return writeCheckpoint(dir, trainer.checkpoint(), opts);
}

/** Loads the checkpoint at `path` into `trainer` (removing what a killed writer left beside it). */
export async function loadCheckpoint(trainer: Trainer, path: string): Promise<string> {
  const ck = await readCheckpoint(path);
  const parent = join(ck.path, '..');
  if (CKPT.test(basename(ck.path))) await removeStaleTemporaries(parent);
  await trainer.restore(ck, ck.path);
  return ck.path;
}

/** Builds a trainer with `options` and continues from the checkpoint at `path` (weights, EMA, moments, step, Rng, data position). */
export async function resumeTrainer(path: string, options: TrainerOptions): Promise<Trainer> {
  const trainer = await createTrainer(options);
  try {
    await loadCheckpoint(trainer, path);
  } catch (e) {
    await trainer.dispose();
    throw e;
  }
  return trainer;
}
