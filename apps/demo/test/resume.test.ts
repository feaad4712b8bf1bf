// What `train --resume` may change: a larger --steps, not a smaller one, and nothing of what was trained;
// and a run stopped before its first checkpoint resumes from its config.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createProgram } from '../src/cli.js';
import { latest, metricSteps, TINY } from './cliProcess.js';

const root = mkdtempSync(join(tmpdir(), 'demo-resume-'));
const base = join(root, 'base');
let n = 0;

/** The CLI in this process (as `cli <args>`); its console output is kept quiet. */
async function cli(args: string[]): Promise<void> {
  const quiet = [vi.spyOn(console, 'log').mockImplementation(() => {}), vi.spyOn(process.stdout, 'write').mockImplementation(() => true)];
  try {
    await createProgram().parseAsync(['node', 'cli', ...args]);
  } finally {
    for (const q of quiet) q.mockRestore();
  }
}

function copy(): string {
  const r = join(root, `run-${n++}`);
  cpSync(base, r, { recursive: true });
  return r;
}

beforeAll(async () => {
  await cli(['train', '--out', base, '--steps', '4', '--checkpoint-every', '2', ...TINY]);
}, 120_000);

describe('train --resume', () => {
  it('refuses a --steps below the step reached, by name, and leaves config.json as it was; a larger one trains on to it', async () => {
    const r = copy();
    const before = readFileSync(join(r, 'config.json'), 'utf8');
    await expect(cli(['train', '--resume', r, '--steps', '2'])).rejects.toThrow(/--steps 2: .* has trained 4 steps; a resume trains on to a larger --steps/);
    expect(readFileSync(join(r, 'config.json'), 'utf8')).toBe(before);
    expect(existsSync(join(r, 'lock'))).toBe(false);
    await cli(['train', '--resume', r, '--steps', '6']);
    expect(latest(r)!.step).toBe(6);
    expect(JSON.parse(readFileSync(join(r, 'config.json'), 'utf8')).demo.steps).toBe(6);
  }, 120_000);

  it('refuses settings that would change what was trained, by name, before anything is written; the same values pass', async () => {
    const r = copy();
    const before = readFileSync(join(r, 'config.json'), 'utf8');
    const saved = JSON.parse(before).demo;
    expect(saved.prediction).toBe('v');
    for (const [args, msg] of [
      [['--prediction', 'epsilon'], /--prediction "epsilon": the run was trained with "v"; a resume continues the run as it was trained/],
      [['--class-conditional', 'false'], /--class-conditional false: the run was trained with true/],
      [['--model', 'mnist-ref'], /--model "mnist-ref": the run was trained with "mnist-tiny"/],
      [['--model-overrides', '{"blockOutChannels":[16,16]}'], /--model-overrides \{"blockOutChannels":\[16,16\]\}: the run was trained with/],
      [['--beta-schedule', 'linear'], /--beta-schedule "linear": the run was trained with "squaredcos_cap_v2"/],
      [['--preset', 'mnist'], /--preset mnist: the run's preset is 'mnist-tiny'/],
      [['--config', join(root, 'missing.json')], /--config .*missing\.json: a resume continues the run as it was trained/],
    ] as const) {
      await expect(cli(['train', '--resume', r, '--steps', '6', ...args]), args.join(' ')).rejects.toThrow(msg);
      expect(readFileSync(join(r, 'config.json'), 'utf8')).toBe(before);
      expect(latest(r)!.step).toBe(4);
    }
    // The run's own values change nothing, so they pass (model overrides in another key order too).
    const overrides = JSON.stringify(Object.fromEntries(Object.entries(saved.model.overrides as Record<string, unknown>).reverse()));
    await cli(['train', '--resume', r, '--steps', '5', '--prediction', 'v', '--class-conditional', 'true', '--model-overrides', overrides, '--preset', 'mnist-tiny']);
    expect(latest(r)!.step).toBe(5);
  }, 120_000);

  it('a run stopped before its first checkpoint resumes from its config at step 0', async () => {
    const r = copy();
    // As a run killed before its first checkpoint leaves it: config.json and the first metrics lines, no checkpoint.
    rmSync(join(r, 'checkpoints'), { recursive: true });
    rmSync(join(r, 'model.safetensors'));
    await expect(cli(['train', '--out', r, ...TINY])).rejects.toThrow(/already holds a run; use --resume/);
    await cli(['train', '--resume', r]);
    expect(latest(r)!.step).toBe(4);
    // The metrics of the lost steps are redone, not doubled.
    expect(metricSteps(r)).toEqual([1, 2, 3, 4]);
  }, 120_000);
});
