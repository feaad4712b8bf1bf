import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distillCommand, halvingDir, studentStepsOf } from '../src/commands/distill.js';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';
import { readMetrics, readRunConfig } from '../src/runFolder.js';

describe('cli distill', () => {
  it('writes a run folder per halving that sample reads at its step count, continues after a stop, and writes the table', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-distill-'));
    const teacher = join(root, 'teacher');
    await trainCommand({
      out: teacher, quiet: true,
      overrides: {
        steps: 2, batchSize: 4, trainSize: 200, valSize: 16, 'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
        'every.validate': 2, 'every.sample': 2, 'every.checkpoint': 2, 'sampler.steps': 2, 'sampler.cols': 2, 'regularizers.ema': 0.9,
      },
    });
    const out = join(root, 'distilled');
    const opts = { checkpoint: teacher, halvings: 2, teacherSteps: 4, stepsPerHalving: 2, batchSize: 4, out, quiet: true, evalN: 1, classifierEpochs: 1, classifierTrainSize: 200 };
    // 3 of the 4 steps: halving 1 finishes, halving 2 stops after one step, no table yet.
    const a = await distillCommand({ ...opts, maxSteps: 3 });
    expect(a.halvings.map((h) => [h.studentSteps, h.step, h.done])).toEqual([[2, 2, true], [1, 1, false]]);
    expect(a.table).toBeUndefined();
    const b = await distillCommand(opts);
    expect(b.halvings.map((h) => [h.studentSteps, h.step, h.done])).toEqual([[2, 2, true], [1, 2, true]]);
    const teacherGuidance = readRunConfig(teacher).demo.sampler.guidance;
    expect(teacherGuidance).not.toBe(1);
    for (const [r, n] of [[1, 2], [2, 1]] as const) {
      const dir = halvingDir(out, r, n);
      expect(studentStepsOf(dir)).toBe(n);
      const cfg = readRunConfig(dir);
      // Guidance goes into the first student only; the second halving's teacher already follows it.
      expect((cfg as unknown as { distilledFrom: { guidance: number } }).distilledFrom.guidance).toBe(r === 1 ? teacherGuidance : 1);
      expect(cfg.demo.sampler).toMatchObject({ name: 'ddim', steps: n, guidance: 1 });
      expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
      expect(readMetrics(join(dir, 'metrics.jsonl')).map((l) => l.step).at(-1)).toBe(2);
    }
    const s = await sampleCommand({ checkpoint: halvingDir(out, 2, 1), n: 1, quiet: true, out: join(root, 'sampled') });
    expect(s.grid).toMatch(/ddim-1steps-g1-/);
    expect(s.weights).toBe('ema');
    const rows = b.table!.rows.map((x) => [x.steps, x.model]);
    expect(rows).toEqual([[4, 'teacher (DDIM)'], [2, 'student'], [2, 'teacher (DDIM)'], [1, 'student'], [1, 'teacher (DDIM)']]);
    for (const x of b.table!.rows) {
      expect(x.classifierAccuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(x.frechetDistance)).toBe(true);
    }
    expect(readFileSync(b.table!.markdown, 'utf8')).toMatch(/\| 1 \| student \|/);
    await expect(distillCommand({ ...opts, guidance: 2 })).rejects.toThrow(/holds a distillation with other settings/);
    await expect(distillCommand({ ...opts, teacherSteps: 6 })).rejects.toThrow(/--teacher-steps must be divisible by 2\^halvings = 4; got 6/);
  }, 600_000);
});
