import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromDiffusers } from '@tfjs-diffusion/models';
import { describe, expect, it } from 'vitest';
import { loadModelFrom, readModelWeights } from './node.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/diffusers-unet-tiny');

function copyFixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'diffusers-folder-'));
  const dir = join(root, 'unet');
  mkdirSync(dir);
  for (const f of ['config.json', 'diffusion_pytorch_model.safetensors']) cpSync(join(FIXTURE, f), join(dir, f));
  return dir;
}

describe('the weights loader on a diffusers UNet2DModel folder', () => {
  it("reads the weights under our names, with the prediction type of the pipeline's scheduler config", async () => {
    const dir = copyFixture();
    let w = await readModelWeights(dir);
    expect(w.source).toBe('diffusers');
    expect(w.config).toMatchObject({ kind: 'unet', predictionType: 'epsilon', blockOutChannels: [32, 64] });
    mkdirSync(join(dir, '..', 'scheduler'));
    writeFileSync(join(dir, '..', 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'DDPMScheduler', prediction_type: 'v_prediction' }));
    const m = await loadModelFrom(dir);
    expect(m.config.predictionType).toBe('v');
    // The same weights fromDiffusers loads.
    const ref = fromDiffusers(readFileSync(join(dir, 'config.json'), 'utf8'), readFileSync(join(dir, 'diffusion_pytorch_model.safetensors')));
    const byName = new Map(ref.parameters().map((p) => [p.name, p.variable]));
    for (const p of m.model.parameters()) expect(Array.from(p.variable.dataSync()), p.name).toEqual(Array.from(byName.get(p.name)!.dataSync()));
    m.model.dispose();
    ref.dispose();
    await expect(readModelWeights(dir, { ema: false })).rejects.toThrow(/only the inference weights/);
    writeFileSync(join(dir, '..', 'scheduler', 'scheduler_config.json'), JSON.stringify({ prediction_type: 'x0' }));
    await expect(readModelWeights(dir)).rejects.toThrow(/scheduler_config.json: prediction_type must be one of/);
  });

  it('names a folder that has only the PyTorch pickle', async () => {
    const dir = copyFixture();
    cpSync(join(dir, 'diffusion_pytorch_model.safetensors'), join(dir, 'diffusion_pytorch_model.bin'));
    writeFileSync(join(dir, 'diffusion_pytorch_model.safetensors'), '');
    await expect(readModelWeights(dir)).rejects.toThrow(/not a valid safetensors file/);
    rmSync(join(dir, 'diffusion_pytorch_model.safetensors'));
    await expect(readModelWeights(dir)).rejects.toThrow(/without diffusion_pytorch_model.safetensors .*save_pretrained/);
  });
});
