import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** What a run folder's `lock` file holds: who writes the run. */
export interface LockOwner {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export interface RunLock {
  readonly path: string;
  release(): void;
}

export const LOCK_FILE = 'lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

const describe = (o: LockOwner) => `pid ${o.pid} on ${o.host} (started ${o.started}${o.command ? `, '${o.command.length > 100 ? `${o.command.slice(0, 97)}...` : o.command}'` : ''})`;

/**
 * One writer per run folder: creates `<dir>/lock` exclusively (`open(..., 'wx')`, atomic on local
 * file systems) holding pid, host and start time. A lock whose process is gone (same host, dead
 * pid, e.g. after kill -9 or power loss) is stale: it is taken over with a message. A live
 * holder, or one on another host, makes this refuse with a message naming it.
 * Released on `release()` and at process exit (also after a second Ctrl-C).
 */
export function acquireRunLock(dir: string, opts: { command?: string; log?: (s: string) => void } = {}): RunLock {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: opts.command ?? process.argv.slice(2).join(' ') };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the lock file ${path}: ${(e as Error).message}`);
      let owner = readOwner(path);
      if (!owner) {
        // A holder between open and write, or one killed there: look again before calling it stale.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
        owner = readOwner(path);
      }
      if (owner && owner.host !== me.host) {
        throw new Error(`${dir} is locked by ${describe(owner)}; another machine may be writing this run. If it is not, delete ${path}`);
      }
      if (owner && alive(owner.pid) && owner.pid !== process.pid) {
        throw new Error(`${dir} is in use: ${describe(owner)} is writing this run (lock file ${path}); wait for it to finish or stop it first`);
      }
      // Stale: move it aside under a unique name (rename is atomic, so two takers cannot both remove a fresh lock), then retry.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
        const moved = readOwner(aside);
        if (moved && moved.pid !== owner?.pid && alive(moved.pid)) {
          // Another process took the stale lock over a moment ago and this moved its fresh lock: put it back.
          try { linkSync(aside, path); } catch { /* a third process holds it now */ }
        }
        unlinkSync(aside);
      } catch {
        /* another process took it over first; the retry sees its lock */
      }
      opts.log?.(`taking over the stale lock of ${owner ? describe(owner) : 'an unreadable lock file'} (that process is gone)`);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
    } finally {
      closeSync(fd);
    }
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      process.off('exit', release);
      // Remove only our own lock.
      if (readOwner(path)?.pid === process.pid) {
        try { unlinkSync(path); } catch { /* already gone */ }
      }
    };
    process.on('exit', release);
    return { path, release };
  }
  throw new Error(`cannot take the lock ${path}: other processes keep taking it`);
}
