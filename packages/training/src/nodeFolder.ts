// Folders on disk (Node): the model-folder reader's file access, and clean-up
// of what a killed writer left.
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMPORARY_NAME } from '@tfjs-diffusion/schedules/node';
import { normalizeFolderPath, type FolderFiles } from './folder.js';

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The folder `dir` on disk as `FolderFiles` (a missing file or a folder reads as absent; other errors name the path). */
export function nodeFolder(dir: string): FolderFiles {
  const at = (path: string) => {
    const p = normalizeFolderPath(path);
    return p === '' ? dir : join(dir, p);
  };
  return {
    async read(path) {
      try {
        const b = await readFile(at(path));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw new Error(`cannot read ${at(path)}: ${(e as Error).message}`);
      }
    },
    async has(path) {
      try {
        return (await stat(at(path))).isFile();
      } catch {
        return false;
      }
    },
    describe: at,
  };
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what a killed writer left in `dir`: `tmp-ckpt-*` folders, `latest.tmp`
 * and `*.tmp-<pid>-*` files whose process is gone (only names `only` accepts,
 * when given). Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string, only?: (name: string) => boolean): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (only && !only(name)) continue;
    const m = /^tmp-ckpt-\d+-(\d+)$/.exec(name) ?? TEMPORARY_NAME.exec(name);
    const stale = m ? !alive(Number(m[1])) : name === 'latest.tmp' || /^tmp-ckpt-/.test(name);
    if (!stale) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
