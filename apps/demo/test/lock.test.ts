import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { acquireRunLock } from '../src/lock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'demo-lock-'));

describe('run folder lock', () => {
  it('holds pid, host and start time, refuses a second taker naming the holder, and is gone after release', () => {
    const d = dir();
    const lock = acquireRunLock(d, { command: 'train --out x' });
    const owner = JSON.parse(readFileSync(lock.path, 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), command: 'train --out x' });
    expect(Number.isNaN(Date.parse(owner.started))).toBe(false);
    // Another live process holds it: pretend with the parent's pid (alive, not us).
    writeFileSync(lock.path, JSON.stringify({ ...owner, pid: process.ppid }));
    expect(() => acquireRunLock(d)).toThrow(`${d} is in use: pid ${process.ppid} on ${hostname()}`);
    writeFileSync(lock.path, JSON.stringify(owner));
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('takes over a stale lock (dead pid) with a message; never one from another host', () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(d, 'lock'), JSON.stringify({ pid: Number(dead), host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'train' }));
    const said: string[] = [];
    const lock = acquireRunLock(d, { log: (s) => said.push(s) });
    expect(said.join('\n')).toContain(`taking over the stale lock of pid ${dead} on ${hostname()}`);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();

    writeFileSync(join(d, 'lock'), JSON.stringify({ pid: Number(dead), host: 'other-machine', started: '2026-01-01T00:00:00.000Z', command: 'train' }));
    expect(() => acquireRunLock(d)).toThrow(/locked by pid \d+ on other-machine.*If it is not, delete/);
  });
});
