// Where a checkpoint sits in a folder (a ckpt-* folder, a checkpoints folder
// with `latest`, a run folder with checkpoints/latest) and reading it, from
// name → bytes, so a browser and Node find the same one.
import { CHECKPOINT_STATE, CHECKPOINT_WEIGHTS, decodeCheckpoint, type Checkpoint } from './checkpoint.js';
import { hasFile, joinFolderPath, type FolderFiles } from './folder.js';

export const CHECKPOINT_LATEST = 'latest';
export const CHECKPOINTS_DIR = 'checkpoints';
export const CHECKPOINT_NAME = /^ckpt-\d+$/;

/**
 * The checkpoint folder (relative to `folder`) that the folder means: itself if it
 * holds state.json, the one its `latest` names (a checkpoints folder), or the one
 * `checkpoints/latest` names (a run folder). Undefined when it is none of these.
 */
export async function findCheckpointIn(folder: FolderFiles): Promise<string | undefined> {
  if (await hasFile(folder, CHECKPOINT_STATE)) return '';
  for (const dir of ['', CHECKPOINTS_DIR]) {
    const latest = joinFolderPath(dir, CHECKPOINT_LATEST);
    const bytes = await folder.read(latest);
    if (bytes === undefined) continue;
    const name = new TextDecoder().decode(bytes).trim();
    if (!CHECKPOINT_NAME.test(name)) throw new Error(`checkpoint: '${folder.describe(latest)}' names '${name}', not a ckpt-<step> folder`);
    const ck = joinFolderPath(dir, name);
    if (!(await hasFile(folder, joinFolderPath(ck, CHECKPOINT_STATE)))) {
      throw new Error(`checkpoint: '${folder.describe(latest)}' names '${name}', which has no ${CHECKPOINT_STATE}`);
    }
    return ck;
  }
  return undefined;
}

/** Reads the checkpoint folder `dir` (relative to `folder`). */
export async function readCheckpointAt(folder: FolderFiles, dir: string): Promise<Checkpoint> {
  const where = folder.describe(dir);
  const [weights, state] = await Promise.all([
    folder.read(joinFolderPath(dir, CHECKPOINT_WEIGHTS)),
    folder.read(joinFolderPath(dir, CHECKPOINT_STATE)),
  ]);
  if (weights === undefined) throw new Error(`checkpoint ${where}: cannot read ${CHECKPOINT_WEIGHTS}: no such file`);
  if (state === undefined) throw new Error(`checkpoint ${where}: cannot read ${CHECKPOINT_STATE}: no such file`);
  return decodeCheckpoint({ weights, state: new TextDecoder().decode(state) }, where);
}
