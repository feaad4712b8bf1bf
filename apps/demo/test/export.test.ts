import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '@tfjs-diffusion/models';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../src/commands/export.js';
import { trainCommand } from '../src/commands/train.js';
import { start } from './cliProcess.js';

const tiny = (channels: number[]) => ({
  steps: 1, batchSize: 4, trainSize: 16, valSize: 4, threads: 1,
  'model.overrides': { blockOutChannels: channels, normNumGroups: 4, timeFeatureDim: channels[0], embedDim: 4 * channels[0]! },
  'every.log': 1, 'every.validate': 100, 'every.sample': 100, 'every.checkpoint': 1, 'sampler.steps': 1, 'sampler.cols': 1,
});

describe('export --out', () => {
  it('never writes into a run or a folder it did not write; two exports to one --out never mix their files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-export-'));
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    await trainCommand({ out: a, overrides: tiny([8, 8]), quiet: true });
    await trainCommand({ out: b, overrides: tiny([16, 16]), quiet: true });

    // A run folder, even with --force: its config.json is what resume and fine-tune read.
    const config = readFileSync(join(a, 'config.json'), 'utf8');
    await expect(exportCommand({ checkpoint: a, format: 'diffusers', out: a, force: true, quiet: true })).rejects.toThrow(/is a run, checkpoint or model folder .*never writes into one/);
    expect(readFileSync(join(a, 'config.json'), 'utf8')).toBe(config);
    expect(readdirSync(a).filter((n) => n.includes('diffusion_pytorch_model'))).toEqual([]);
    // A folder of other files.
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'config.json'), '{"mine": true}');
    await expect(exportCommand({ checkpoint: a, format: 'diffusers', out: other, force: true, quiet: true })).rejects.toThrow(/not an export of this command .*config\.json/);
    expect(readdirSync(other)).toEqual(['config.json']);

    // An earlier export is replaced with --force only, whole.
    const out = join(root, 'exported');
    const first = await exportCommand({ checkpoint: a, format: 'diffusers', out, quiet: true });
    expect(first.diffusersVersion).toBe('0.13.0');
    await expect(exportCommand({ checkpoint: b, format: 'diffusers', out, quiet: true })).rejects.toThrow(/is not empty; .*--force/);
    await exportCommand({ checkpoint: b, format: 'diffusers', out, force: true, quiet: true });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ block_out_channels: [16, 16], _diffusers_version: '0.13.0' });

    // Two processes export two different runs to one new --out at once: one wins, and the folder is all of that one.
    const both = join(root, 'both');
    const runs = await Promise.all([a, b].map((r) => start('node', ['export', '--checkpoint', r, '--format', 'diffusers', '--out', both]).done));
    expect(runs.map((r) => r.code).sort(), runs.map((r) => r.output).join('\n')).toEqual([0, 1]);
    const cfg = JSON.parse(readFileSync(join(both, 'config.json'), 'utf8')) as { block_out_channels: number[] };
    const weights = decodeSafetensors(readFileSync(join(both, 'diffusion_pytorch_model.safetensors'))).tensors;
    expect(weights['conv_in.weight']!.shape[0]).toBe(cfg.block_out_channels[0]);
    expect(runs.find((r) => r.code !== 0)!.output).toMatch(/--out .*both (is not empty|was written by another export meanwhile)/);
    expect(readdirSync(root).filter((n) => n.includes('.tmp-export-'))).toEqual([]);
  }, 240_000);
});
