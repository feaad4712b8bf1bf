// Fault injection, signals: Ctrl-C through every documented launcher, a second Ctrl-C, and
// kill -9 at random moments (also in the middle of a checkpoint write), then resume.
import { existsSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointBytes, latest, metricSteps, run, start, tempDir, TINY, waitFor, type Launcher } from './cliProcess.js';

describe('Ctrl-C saves the step reached, through every documented launcher', () => {
  it.each<[Launcher, string[]]>([
    ['pnpm-cli', ['train']],
    ['node', ['train']],
    // The root `pnpm demo` (train --preset mnist-tiny) with the same tiny settings appended.
    ['pnpm-demo', []],
  ])('%s: train --checkpoint-every 10 --steps 400, Ctrl-C at step 15 leaves the step-15 checkpoint', async (launcher, cmd) => {
    const out = join(tempDir('sigint'), 'run');
    const p = start(launcher, [...cmd, '--out', out, '--steps', '400', '--checkpoint-every', '10', ...TINY]);
    // Ctrl-C once step 15's metrics line is written (the terminal's SIGINT to the whole process group).
    const reached = await waitFor(() => { const s = metricSteps(out); return s.length && s.at(-1)! >= 15 ? s.at(-1)! : undefined; }, 'step 15', 90_000, 5);
    p.signal('SIGINT');
    const r = await p.done;
    expect(r.output).toContain('Ctrl-C: saving a checkpoint and exiting');
    const l = latest(out)!;
    // The step reached when Ctrl-C came (the step running then finishes first), not ckpt-10.
    expect(l.step).toBeGreaterThanOrEqual(reached);
    expect(l.step).toBeLessThan(400);
    expect(readdirSync(join(out, 'checkpoints'))).toContain(l.name);
    expect(r.output).toMatch(new RegExp(`stopped at step ${l.step}`));
    if (launcher === 'node') expect(r.code).toBe(130);
    else expect(r.code === 130 || r.code === 1 || r.signal === 'SIGINT').toBe(true);
    expect(existsSync(join(out, 'lock'))).toBe(false);
  }, 150_000);

  it('a second Ctrl-C exits at once and leaves the last complete checkpoint', async () => {
    const out = join(tempDir('sigint2'), 'run');
    const p = start('node', ['train', '--out', out, '--steps', '400', '--checkpoint-every', '10', ...TINY]);
    await waitFor(() => (latest(out)?.step === 10 ? true : undefined), 'ckpt-10', 90_000);
    p.signal('SIGINT');
    await waitFor(() => (p.output().includes('Ctrl-C:') ? true : undefined), 'the first Ctrl-C message', 30_000, 2);
    p.signal('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(130);
    expect(r.output).toMatch(/exiting without saving|stopped at step/);
    const l = latest(out)!;
    expect(l.step).toBeGreaterThanOrEqual(10);
    expect(Object.keys(checkpointBytes(l.dir)).length).toBeGreaterThan(0);
    expect(existsSync(join(out, 'lock'))).toBe(false);
    // And it resumes from there.
    const res = await run('node', ['train', '--resume', out, '--steps', String(l.step + 2), '--checkpoint-every', '10']);
    expect(res.code, res.output).toBe(0);
    expect(res.output).toContain(`resumed at step ${l.step}`);
  }, 150_000);
});

describe('kill -9 at random moments', () => {
  const STEPS = 60;
  it('during checkpoint writes and between them: every resume works and the end matches an uninterrupted run bit for bit', async () => {
    const root = tempDir('sigkill');
    const args = ['--steps', String(STEPS), '--checkpoint-every', '2', ...TINY];
    const ref = join(root, 'ref');
    const a = await run('node', ['train', '--out', ref, ...args]);
    expect(a.code, a.output).toBe(0);

    const out = join(root, 'killed');
    let kills = 0;
    let midWrite = 0;
    let first = true;
    const outputs: string[] = [];
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Kills are timed by the step reached, not by the clock: a step takes milliseconds, so a delay
    // in time lets a fast machine finish the run before the kill comes.
    for (let attempt = 0; attempt < 20 && (kills < 4 || midWrite < 1); attempt++) {
      const p = start('node', first ? ['train', '--out', out, ...args] : ['train', '--resume', out]);
      first = false;
      const ck = join(out, 'checkpoints');
      // Killed before its first checkpoint a run has nothing to resume: start killing once one exists.
      await waitFor(() => (latest(out) || p.child.exitCode !== null ? true : undefined), 'the first checkpoint', 60_000);
      const from = latest(out)?.step ?? 0;
      // Odd attempts: kill the moment a temporary checkpoint folder appears (mid-write); even: at a random later step.
      const killed = new Promise<boolean>((resolveKill) => {
        let over = false;
        p.done.then(() => { over = true; resolveKill(false); });
        if (attempt % 2 === 1) {
          const w = watch(ck, (_, name) => {
            if (!over && name && String(name).startsWith('tmp-')) { p.signal('SIGKILL'); midWrite++; w.close(); resolveKill(true); }
          });
          p.done.then(() => w.close());
        } else {
          const at = from + 1 + Math.floor(rand() * 4);
          waitFor(() => (over || (metricSteps(out).at(-1) ?? 0) >= at ? true : undefined), `step ${at}`, 60_000, 1)
            .then(() => { if (!over) { p.signal('SIGKILL'); resolveKill(true); } }, () => resolveKill(false));
        }
      });
      const wasKilled = await killed;
      const r = await p.done;
      outputs.push(r.output);
      if (wasKilled && r.signal === 'SIGKILL') {
        kills++;
        continue;
      }
      expect(r.code, r.output).toBe(0);
      if (latest(out)?.step === STEPS) break;
    }
    if (latest(out)?.step !== STEPS) {
      const r = await run('node', ['train', '--resume', out]);
      expect(r.code, r.output).toBe(0);
    }
    expect(kills).toBeGreaterThanOrEqual(4);
    expect(midWrite).toBeGreaterThanOrEqual(1);
    // A killed writer's lock is stale: the next run takes it over and says so.
    expect(outputs.join('\n')).toContain('taking over the stale lock of pid');
    // The end state is the uninterrupted run's, bit for bit.
    const want = checkpointBytes(latest(ref)!.dir);
    const got = checkpointBytes(latest(out)!.dir);
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) expect(got[k]!.equals(want[k]!), k).toBe(true);
    expect(existsSync(join(out, 'lock'))).toBe(false);
    // What the killed writers left (temporary checkpoint folders) is gone, and the metrics of redone steps are not doubled.
    expect(readdirSync(join(out, 'checkpoints')).filter((f) => f.startsWith('tmp-'))).toEqual([]);
    const steps = metricSteps(out);
    expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
  }, 300_000);
});
