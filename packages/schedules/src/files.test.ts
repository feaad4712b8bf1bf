import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TEMPORARY_NAME, temporaryPath, writeFileAtomic, writeFileAtomicSync } from './node.js';

// A full disk on demand: the next write to a temporary file fails with ENOSPC after writing part of it.
const fault = vi.hoisted(() => ({ enospc: false, fixedRandom: false }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    writeSync: (fd: number, ...rest: unknown[]) => {
      if (fault.enospc) {
        real.writeSync(fd, Buffer.from('half'));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
      }
      return (real.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    },
  };
});
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, randomBytes: (n: number) => (fault.fixedRandom ? Buffer.alloc(n, 7) : real.randomBytes(n)) };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (...a: Parameters<typeof real.open>) => {
      const fh = await real.open(...a);
      if (!fault.enospc) return fh;
      return {
        writeFile: async () => {
          await fh.writeFile('half');
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
        },
        close: () => fh.close(),
      };
    },
  };
});

afterEach(() => { fault.enospc = false; fault.fixedRandom = false; });

const dir = () => mkdtempSync(join(tmpdir(), 'atomic-'));

describe('writeFileAtomicSync / writeFileAtomic', () => {
  it.each([['sync', writeFileAtomicSync], ['async', writeFileAtomic]] as const)('%s: writes the file whole, creating its folder, and leaves no temporary file', async (_, write) => {
    const d = dir();
    const path = join(d, 'a', 'b.png');
    expect(await write(path, new Uint8Array([1, 2, 3]))).toBe(path);
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    await write(path, 'again');
    expect(readFileSync(path, 'utf8')).toBe('again');
    expect(readdirSync(join(d, 'a'))).toEqual(['b.png']);
  });

  it.each([['sync', writeFileAtomicSync], ['async', writeFileAtomic]] as const)('%s: a full disk leaves the old file and no temporary one, and the error names the file', async (_, write) => {
    const d = dir();
    const path = join(d, 'grid.png');
    writeFileSync(path, 'old');
    fault.enospc = true;
    const e = await Promise.resolve().then(() => write(path, new Uint8Array(1000))).then(() => undefined, (x: NodeJS.ErrnoException) => x);
    expect(e?.code).toBe('ENOSPC');
    expect(e?.message).toBe(`cannot write ${path}: ENOSPC: no space left on device, write`);
    expect(readdirSync(d)).toEqual(['grid.png']);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('temporary names are unpredictable and carry the pid; a link planted at the old predictable names is never written through', () => {
    const d = dir();
    const path = join(d, 'grid.png');
    const names = new Set(Array.from({ length: 50 }, () => temporaryPath(path)));
    expect(names.size).toBe(50);
    for (const n of names) expect(Number(TEMPORARY_NAME.exec(basename(n))?.[1])).toBe(process.pid);
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, `${path}.tmp-${process.pid}`);
    symlinkSync(victim, `${path}.tmp-${process.pid}-${Date.now()}`);
    writeFileAtomicSync(path, 'grid');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path, 'utf8')).toBe('grid');
    // A link at the target itself is replaced, not followed.
    const linked = join(d, 'linked.png');
    symlinkSync(victim, linked);
    writeFileAtomicSync(linked, 'new');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.lstatSync(linked).isSymbolicLink()).toBe(false);
  });

  it('opens the temporary file exclusively: a link already at its name is refused, never written through', () => {
    const d = dir();
    const path = join(d, 'x.json');
    fault.fixedRandom = true;
    const tmp = temporaryPath(path);
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, tmp);
    expect(() => writeFileAtomicSync(path, 'overwrite?')).toThrow(`cannot write ${path}: EEXIST`);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.existsSync(path)).toBe(false);
    expect(fs.lstatSync(tmp).isSymbolicLink()).toBe(true); // not ours: left as it was
  });

  it('a name near the file-name limit still gets a temporary file beside it', () => {
    const d = dir();
    const path = join(d, `${'n'.repeat(250)}.png`);
    writeFileAtomicSync(path, 'ok');
    expect(readFileSync(path, 'utf8')).toBe('ok');
    expect(Buffer.byteLength(basename(temporaryPath(path)))).toBeLessThanOrEqual(255);
  });
});
