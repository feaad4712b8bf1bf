// Fault injection, stop requests: SIGTERM (a supervisor's kill), SIGHUP (the terminal closed) and the
// launcher killed alone stop every long command as Ctrl-C does, with the shell's exit codes.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { latest, metricSteps, run, start, tempDir, TINY, waitFor, type Running } from './cliProcess.js';

/** Waits for step `n`'s metrics line in `dir`, then returns the last step logged. */
const reach = (dir: string, n: number) => waitFor(() => { const s = metricSteps(dir); return s.length && s.at(-1)! >= n ? s.at(-1)! : undefined; }, `step ${n}`, 90_000, 5);
/** Sends `sig` to the process `p` started, alone (not its group). */
const kill = (p: Running, sig: NodeJS.Signals) => process.kill(p.child.pid!, sig);

describe('train: SIGTERM and SIGHUP save the step reached, as Ctrl-C does', () => {
  it.each<[NodeJS.Signals, number]>([['SIGTERM', 143], ['SIGHUP', 129]])('%s to the CLI: the step reached is saved; exit %i', async (sig, code) => {
    const out = join(tempDir('stop'), 'run');
    const p = start('node', ['train', '--out', out, '--steps', '400', '--checkpoint-every', '10', ...TINY]);
    const reached = await reach(out, 15);
    kill(p, sig);
    const r = await p.done;
    expect(r.output).toContain(`${sig}: saving a checkpoint and exiting`);
    expect(r.code, r.output).toBe(code);
    const l = latest(out)!;
    expect(l.step).toBeGreaterThanOrEqual(reached);
    expect(l.step).toBeLessThan(400);
    expect(r.output).toMatch(new RegExp(`stopped at step ${l.step}`));
    expect(existsSync(join(out, 'lock'))).toBe(false);
  }, 150_000);

  it('SIGTERM to the launcher alone (pnpm … run cli): the CLI is not orphaned; it saves the step reached, ends and frees the run', async () => {
    const out = join(tempDir('launcher'), 'run');
    const p = start('pnpm-cli', ['train', '--out', out, '--steps', '3000', '--checkpoint-every', '1000', ...TINY]);
    const reached = await reach(out, 15);
    kill(p, 'SIGTERM');
    // The output pipes close when the CLI under the launcher has ended too.
    const r = await p.done;
    expect(r.output).toMatch(/SIG(TERM|HUP): saving a checkpoint and exiting/);
    const l = latest(out)!;
    expect(l.step).toBeGreaterThanOrEqual(reached);
    expect(l.step).toBeLessThan(1000);
    expect(existsSync(join(out, 'lock'))).toBe(false);
    // And it resumes from there.
    const again = await run('node', ['train', '--resume', out, '--steps', String(l.step + 1)]);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`resumed at step ${l.step}`);
  }, 150_000);
});

describe('distill, sample: the same stop requests and exit codes as train', () => {
  let teacher: string;
  beforeAll(async () => {
    teacher = join(tempDir('teacher'), 'run');
    const r = await run('node', ['train', '--out', teacher, '--steps', '2', '--checkpoint-every', '2', '--prediction', 'v', ...TINY]);
    expect(r.code, r.output).toBe(0);
  }, 120_000);

  it.each<[NodeJS.Signals, number]>([['SIGINT', 130], ['SIGTERM', 143]])('distill, %s: saves the step reached and exits %i; the same command continues', async (sig, code) => {
    const out = join(tempDir('distill'), 'students');
    const args = ['distill', '--checkpoint', teacher, '--halvings', '1', '--teacher-steps', '2', '--steps-per-halving', '400', '--batch-size', '4', '--eval-n', '0', '--out', out];
    const p = start('node', args);
    const dir = join(out, 'halving-1-1steps');
    const reached = await reach(dir, 5);
    // Ctrl-C from a terminal reaches the whole process group; SIGTERM the CLI alone.
    if (sig === 'SIGINT') p.signal(sig);
    else kill(p, sig);
    const r = await p.done;
    expect(r.output).toContain(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: saving a checkpoint and exiting`);
    expect(r.code, r.output).toBe(code);
    const l = latest(dir)!;
    expect(l.step).toBeGreaterThanOrEqual(reached);
    expect(r.output).toContain(`stopped at step ${l.step} of 400 in halving 1`);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    const again = await run('node', [...args, '--max-steps', '1']);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`resumed at step ${l.step}`);
  }, 200_000);

  it('sample, SIGTERM: stops at once with exit 143 and leaves no half-written file', async () => {
    const out = join(tempDir('sample'), 'out');
    const p = start('node', ['sample', '--checkpoint', teacher, '--steps', '1000', '--n', '8', '--out', out]);
    await waitFor(() => (/sample \d+\/\d+ images/.test(p.output()) ? true : undefined), 'sampling to begin', 90_000, 20);
    kill(p, 'SIGTERM');
    const r = await p.done;
    expect(r.code, r.output).toBe(143);
    expect(r.output).toContain('SIGTERM: stopped; no output is half-written');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 150_000);
});
