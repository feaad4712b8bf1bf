import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FolderFile } from './folderLayout.js';
import { checkFolderOptions, imageFolder, type FolderDataset, type ImageFolderOptions } from './imageFolder.js';

export { decodeImage } from './decode.js';

/** Every file below `dir`, as `{ path, bytes }` with '/'-separated relative paths; bytes are read when decoded. */
export async function readFolder(dir: string): Promise<FolderFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (e) {
    throw new Error(`loadImageFolder: cannot read folder ${dir}: ${(e as Error).message}`);
  }
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink()) // a linked file is read through its link; a broken link is reported when read
    .map((e) => {
      const full = join(e.parentPath ?? e.path, e.name);
      return { path: relative(dir, full).split(sep).join('/'), bytes: async () => new Uint8Array(await readFile(full)) };
    });
}

/**
 * `imageFolder` on a folder on disk: class subfolders or flat, optional
 * metadata.jsonl captions, PNG and JPEG of any size. Files are read one at a
 * time as they are decoded; paths in the result, in skip reports and in
 * errors are `dir` joined with the file's path.
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions): Promise<FolderDataset> {
  checkFolderOptions(opts, 'loadImageFolder');
  return imageFolder(await readFolder(dir), opts, { where: 'loadImageFolder', folder: dir, show: (p) => join(dir, p) });
}
