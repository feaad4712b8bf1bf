import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '@tfjs-diffusion/models';
import { readCheckpoint } from '@tfjs-diffusion/training/node';
import { describe, expect, it } from 'vitest';
import { fineTuneCommand } from '../src/commands/fineTune.js';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';
import { LORA_FILE, parseLoraFlag, runLoraOf } from '../src/lora.js';
import { readRunConfig } from '../src/runFolder.js';

const tiny = {
  batchSize: 4, trainSize: 40, valSize: 8, threads: 1,
  'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4 },
  'every.log': 1, 'every.validate': 100, 'every.sample': 100, 'every.checkpoint': 100,
  'sampler.steps': 2, 'sampler.cols': 1, 'regularizers.ema': 0.9,
};

describe('fine-tune --lora-rank, then sample --lora', () => {
  it('writes a diffusers adapter file and adapter-only checkpoints; a resumed run writes the same file; sample applies it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-lora-'));
    const base = join(root, 'base');
    await trainCommand({ out: base, overrides: { ...tiny, steps: 2 }, quiet: true });
    const lora = { rank: 2, alpha: 4 };
    const whole = join(root, 'whole');
    await fineTuneCommand({ checkpoint: base, out: whole, lora, overrides: { ...tiny, steps: 4 }, quiet: true });
    expect(readRunConfig(whole).lora).toEqual(lora);
    expect(existsSync(join(whole, 'model.safetensors'))).toBe(false);
    const file = decodeSafetensors(readFileSync(join(whole, LORA_FILE)));
    expect(Object.keys(file.tensors)).toContain('unet.down_blocks.0.resnets.0.conv1.lora_A.weight');
    expect(JSON.parse(file.metadata.lora_adapter_metadata!)).toMatchObject({ 'unet.r': 2, 'unet.lora_alpha': 4 });
    const ck = await readCheckpoint(whole);
    expect(Object.keys(ck.model).every((n) => /\.lora_[AB]\.default$/.test(n))).toBe(true);

    // Stopped after 2 of 4 steps, then resumed: the same adapter, bit for bit.
    const parts = join(root, 'parts');
    await fineTuneCommand({ checkpoint: base, out: parts, lora, overrides: { ...tiny, steps: 4 }, maxSteps: 2, quiet: true });
    await trainCommand({ resume: parts, quiet: true });
    expect(Buffer.compare(readFileSync(join(parts, LORA_FILE)), readFileSync(join(whole, LORA_FILE)))).toBe(0);

    const plain = await sampleCommand({ checkpoint: base, steps: 2, classes: [1], n: 1, quiet: true, out: join(root, 's') });
    const adapted = await sampleCommand({ checkpoint: base, steps: 2, classes: [1], n: 1, quiet: true, out: join(root, 's'), lora: [{ path: join(whole, LORA_FILE), weight: 20 }] });
    expect(adapted.grid).toMatch(/-lora-pytorch_lora_weightsx20\.png$/);
    expect(Buffer.compare(readFileSync(plain.grid), readFileSync(adapted.grid))).not.toBe(0);
    const bad = join(root, 'bad.safetensors');
    writeFileSync(bad, new Uint8Array([1, 2, 3]));
    await expect(sampleCommand({ checkpoint: base, steps: 2, n: 1, quiet: true, out: join(root, 's'), lora: [{ path: bad, weight: 1 }] })).rejects.toThrow(/loadLora \(.*bad\.safetensors\)/);
    await expect(fineTuneCommand({ checkpoint: base, out: join(root, 'x'), lora, freeze: ['down.*'], overrides: tiny, quiet: true })).rejects.toThrow(/--freeze and --lora-rank/);
  }, 300_000);

  it('reads the flags: file[:weight], and --lora-alpha or --lora-targets only with --lora-rank', () => {
    expect(parseLoraFlag('a/b.safetensors:0.5')).toEqual({ path: 'a/b.safetensors', weight: 0.5 });
    expect(parseLoraFlag('a/b.safetensors')).toEqual({ path: 'a/b.safetensors', weight: 1 });
    expect(parseLoraFlag('c:/x.safetensors')).toEqual({ path: 'c:/x.safetensors', weight: 1 });
    expect(runLoraOf({ loraRank: 4, loraTargets: 'to_q, conv1' })).toEqual({ rank: 4, targets: ['to_q', 'conv1'] });
    expect(runLoraOf({})).toBeUndefined();
    expect(() => runLoraOf({ loraAlpha: 2 })).toThrow(/need --lora-rank/);
  });
});
