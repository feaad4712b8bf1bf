import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromDiffusersConfig } from '@tfjs-diffusion/samplers';
import { createProgram } from '../src/cli.js';
import { schedulerConfigOf } from '../src/diffusersFolder.js';
import { presetConfig } from '../src/presets.js';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';
import { readRunConfig } from '../src/runFolder.js';
import { flagOverrides } from '../src/trainFlags.js';

describe('train --objective flow', () => {
  const trainOverrides = (...args: string[]) => {
    const train = createProgram().commands.find((c) => c.name() === 'train')!;
    train.parseOptions(args);
    return flagOverrides(train);
  };

  it("sets prediction 'flow' and the flow-matching grids' sampler, and refuses another --prediction", () => {
    expect(trainOverrides('--objective', 'flow')).toMatchObject({ prediction: 'flow', 'sampler.name': 'flow-euler' });
    expect(trainOverrides('--objective', 'flow', '--sampler', 'flow-heun')).toMatchObject({ prediction: 'flow', 'sampler.name': 'flow-heun' });
    expect(trainOverrides('--objective', 'diffusion').prediction).toBeUndefined();
    expect(() => trainOverrides('--objective', 'flow', '--prediction', 'v')).toThrow("--objective flow trains prediction 'flow'; got --prediction v");
  });

  it("exports a flow run's scheduler as FlowMatchEulerDiscreteScheduler, which reads back as 'flow'", () => {
    const config = schedulerConfigOf({ ...presetConfig('mnist-tiny'), prediction: 'flow' });
    expect(config).toEqual({ _class_name: 'FlowMatchEulerDiscreteScheduler', num_train_timesteps: 1000, shift: 1 });
    expect(fromDiffusersConfig(config).prediction).toBe('flow');
  });

  it('trains, stores the objective in the run config, resumes and samples with it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'demo-flow-')), 'run');
    const overrides = {
      ...trainOverrides('--objective', 'flow'), steps: 3, batchSize: 4, trainSize: 64, valSize: 8,
      'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 }, 'every.validate': 2, 'every.sample': 3, 'every.checkpoint': 2,
      'sampler.steps': 2, 'sampler.cols': 1,
    };
    const a = await trainCommand({ out, overrides, maxSteps: 2, quiet: true });
    expect(a.step).toBe(2);
    expect(readRunConfig(out).demo).toMatchObject({ prediction: 'flow', sampler: { name: 'flow-euler' } });
    const b = await trainCommand({ resume: out, quiet: true });
    expect(b.step).toBe(3);
    const s = await sampleCommand({ checkpoint: out, steps: 2, n: 1, quiet: true });
    expect(s.grid).toMatch(/\.png$/);
    await expect(sampleCommand({ checkpoint: out, sampler: 'ddim', steps: 2, n: 1, quiet: true })).rejects.toThrow("ddim cannot sample a 'flow' model");
  }, 300_000);
});
