import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// The one way every package and app writes a file whole or not at all.

/** The longest file name most file systems take (bytes). */
const NAME_MAX = 255;

/**
 * A fresh temporary name beside `path`: `<name>.tmp-<pid>-<random>`, shortened to fit a file
 * name. The pid lets a later run remove what a killed writer left; the random part makes the
 * name unpredictable, so no one can plant a link there in advance.
 */
export function temporaryPath(path: string): string {
  const suffix = `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const name = basename(path);
  const room = NAME_MAX - Buffer.byteLength(suffix);
  let head = name;
  while (Buffer.byteLength(head) > room) head = head.slice(0, -1);
  return join(dirname(path), head + suffix);
}

/** The temporary names `temporaryPath` makes, with the writer's pid: for cleaning up after a killed writer. */
export const TEMPORARY_NAME = /\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

/** A file-system error that names the file it was about (Node's ENOSPC and EACCES messages do not always). */
export function fileError(e: unknown, path: string, doing = 'cannot write'): Error {
  const err = e as NodeJS.ErrnoException;
  if (err?.message?.includes(`'${path}'`)) return err;
  const out = new Error(`${doing} ${path}: ${err?.message ?? String(e)}`, { cause: e }) as NodeJS.ErrnoException;
  if (err?.code) out.code = err.code;
  return out;
}

export interface WriteFileAtomicOptions {
  /**
   * Puts the finished temporary file in place and returns the path written; default a rename
   * over `path`. A hard link instead never replaces an existing file. The temporary file is removed afterwards either way.
   */
  commit?: (tmp: string) => string;
}

/**
 * Writes `data` to `path` (parent folders created) through a temporary file beside it, so a
 * crash, a full disk or a kill never leaves a half-written file. The temporary file is created
 * exclusively (`wx`: never through an existing file or a planted symlink) and removed on any
 * failure; errors name `path`. Returns the path written.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, opts: WriteFileAtomicOptions = {}): string {
  let tmp: string | undefined;
  let fd: number | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const name = temporaryPath(path);
    fd = openSync(name, 'wx', 0o644);
    tmp = name;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    closeSync(fd);
    fd = undefined;
    if (opts.commit) return opts.commit(tmp);
    renameSync(tmp, path);
    return path;
  } catch (e) {
    throw fileError(e, path);
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
    if (tmp !== undefined) rmSync(tmp, { force: true });
  }
}

/** `writeFileAtomicSync` without blocking: the same temporary file, exclusivity and cleanup. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<string> {
  let tmp: string | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    const name = temporaryPath(path);
    const fh = await open(name, 'wx', 0o644);
    tmp = name;
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    return path;
  } catch (e) {
    throw fileError(e, path);
  } finally {
    if (tmp !== undefined) await rm(tmp, { force: true });
  }
}
