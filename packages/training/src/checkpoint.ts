import { mkdir, readFile, readdir, rename, rm, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@tfjs-diffusion/models';

export const CHECKPOINT_VERSION = 1;

export interface CheckpointTensor {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointContents {
  /** Keys 'model.<name>', 'ema.<name>', 'adam.m.<name>', 'adam.v.<name>'. */
  tensors: Record<string, CheckpointTensor>;
  state: Record<string, unknown>;
}

const LATEST = 'latest';

/**
 * Writes `dir/ckpt-<step>/{checkpoint.safetensors,state.json}` inside a
 * temporary directory, renames it into place, then updates `dir/latest`
 * (itself written to a temporary file and renamed). Until that last rename
 * the previous checkpoint is the one `latest` names, so a crash mid-write
 * never leaves a half-written checkpoint in use. Keeps the newest `keep`.
 */
export async function writeCheckpoint(dir: string, step: number, contents: CheckpointContents, keep = 2): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = `ckpt-${String(step).padStart(8, '0')}`;
  const tmp = join(dir, `tmp-${name}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(contents.tensors)) tensors[k] = { dtype: 'F32', shape: t.shape, data: t.data };
  await writeSafetensors(join(tmp, 'checkpoint.safetensors'), tensors, { format: 'tfjs-diffusion-checkpoint', step: String(step) });
  await writeFile(join(tmp, 'state.json'), JSON.stringify(contents.state, null, 1));
  const final = join(dir, name);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  await writeFile(join(dir, `${LATEST}.tmp`), name);
  await rename(join(dir, `${LATEST}.tmp`), join(dir, LATEST));
  if (keep > 0) {
    const all = (await readdir(dir)).filter((f) => /^ckpt-\d+$/.test(f)).sort();
    for (const old of all.slice(0, Math.max(0, all.length - keep))) {
      if (old !== name) await rm(join(dir, old), { recursive: true, force: true });
    }
  }
  return final;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Finds the checkpoint folder: `dir` itself if it holds state.json, else the one `dir/latest` names. */
export async function resolveCheckpoint(dir: string): Promise<string> {
  if (await exists(join(dir, 'state.json'))) return dir;
  let name: string;
  try {
    name = (await readFile(join(dir, LATEST), 'utf8')).trim();
  } catch {
    throw new Error(`checkpoint: '${dir}' holds neither state.json nor a 'latest' file naming a checkpoint`);
  }
  const path = join(dir, name);
  if (!(await exists(join(path, 'state.json')))) {
    throw new Error(`checkpoint: '${dir}/latest' names '${name}', which has no state.json`);
  }
  return path;
}

export async function readCheckpoint(dir: string): Promise<CheckpointContents & { path: string }> {
  const path = await resolveCheckpoint(dir);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(await readFile(join(path, 'state.json'), 'utf8'));
  } catch (e) {
    throw new Error(`checkpoint: ${join(path, 'state.json')} is not valid JSON (${(e as Error).message})`);
  }
  if (state.version !== CHECKPOINT_VERSION) {
    throw new Error(`checkpoint: ${join(path, 'state.json')} has version ${String(state.version)}, expected ${CHECKPOINT_VERSION}`);
  }
  let file;
  try {
    file = await readSafetensors(join(path, 'checkpoint.safetensors'));
  } catch (e) {
    throw new Error(`checkpoint: cannot read ${join(path, 'checkpoint.safetensors')}: ${(e as Error).message}`);
  }
  const tensors: Record<string, CheckpointTensor> = {};
  for (const [k, t] of Object.entries(file.tensors)) {
    if (t.dtype !== 'F32') throw new Error(`checkpoint: tensor '${k}' has dtype ${t.dtype}, expected F32`);
    tensors[k] = { shape: t.shape, data: t.data as Float32Array };
  }
  return { path, tensors, state };
}
