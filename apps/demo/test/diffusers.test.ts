import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, fromDiffusers, UNet, unetPreset } from '@tfjs-diffusion/models';
import { describe, expect, it } from 'vitest';
import { buildModel, loadWeights, modelConfig } from '../src/build.js';
import { evalCommand } from '../src/commands/eval.js';
import { exportCommand } from '../src/commands/export.js';
import { fineTuneCommand } from '../src/commands/fineTune.js';
import { sampleCommand } from '../src/commands/sample.js';
import { trainCommand } from '../src/commands/train.js';
import { writeDiffusersFolder } from '../src/diffusersFolder.js';
import { presetConfig } from '../src/presets.js';
import { readRunConfig } from '../src/runFolder.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/diffusers-unet-tiny');

const values = (m: UNet, name: string) => Array.from(m.selectParameters(name)[0]!.variable.dataSync());

describe('demo and diffusers folders', () => {
  it('export writes a folder diffusers loads, sample and fine-tune take it, --freeze works in diffusers names', async () => {
    const root = mkdtempSync(join(tmpdir(), 'demo-diffusers-'));
    const out = join(root, 'run');
    // A 64-wide time embedding (UNet2DModel's default is 4 × 8): written as time_embedding_dim.
    await trainCommand({
      out, quiet: true,
      overrides: {
        steps: 2, batchSize: 4, trainSize: 64, valSize: 8, 'model.overrides': { blockOutChannels: [8, 8], normNumGroups: 4, timeFeatureDim: 8, embedDim: 64 },
        'every.log': 1, 'every.validate': 2, 'every.sample': 2, 'every.checkpoint': 2, 'sampler.steps': 2, 'sampler.cols': 1, 'regularizers.ema': 0.9,
      },
    });
    const exported = join(root, 'exported');
    const e = await exportCommand({ checkpoint: out, format: 'diffusers', out: exported, quiet: true });
    expect(e.weights).toBe('ema');
    expect(readdirSync(exported).sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors', 'scheduler_config.json']);
    const cfg = JSON.parse(readFileSync(join(exported, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ _class_name: 'UNet2DModel', block_out_channels: [8, 8], num_class_embeds: 11, time_embedding_dim: 64 });
    // time_embedding_dim is read from diffusers 0.32.0 on: the export says so.
    expect(cfg._diffusers_version).toBe('0.32.0');
    expect(e.diffusersVersion).toBe('0.32.0');
    const sched = JSON.parse(readFileSync(join(exported, 'scheduler_config.json'), 'utf8'));
    expect(sched).toMatchObject({ _class_name: 'DDPMScheduler', beta_schedule: 'squaredcos_cap_v2', prediction_type: 'v_prediction' });
    expect(Object.keys(decodeSafetensors(readFileSync(join(exported, 'diffusion_pytorch_model.safetensors'))).tensors)).toContain('down_blocks.0.resnets.0.time_emb_proj.weight');

    // The exported network is the run's: same outputs as the run's EMA weights.
    const run = readRunConfig(out);
    const ours = buildModel(run.model, 0);
    await loadWeights(ours, join(out, 'checkpoints'));
    const theirs = fromDiffusers(readFileSync(join(exported, 'config.json'), 'utf8'), readFileSync(join(exported, 'diffusion_pytorch_model.safetensors')), { predictionType: 'v' });
    const x = tf.randomNormal([1, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([400]);
    const [ya, yb] = [ours.predict(x, t), theirs.predict(x, t)];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, t, ya, yb]);

    // A non-empty --out is refused unless --force.
    await expect(exportCommand({ checkpoint: out, format: 'diffusers', out: exported, quiet: true })).rejects.toThrow(/is not empty; .*--force/);
    await exportCommand({ checkpoint: out, format: 'diffusers', out: exported, force: true, quiet: true });
    await expect(exportCommand({ checkpoint: out, format: 'onnx', out: join(root, 'x'), quiet: true })).rejects.toThrow(/--format must be one of diffusers; got 'onnx'/);

    // sample --checkpoint <diffusers folder>: the schedule and prediction type come from scheduler_config.json.
    const s = await sampleCommand({ checkpoint: exported, steps: 2, classes: [3], n: 2, out: join(root, 'sampled'), quiet: true });
    expect(s.weights).toBe('diffusers');
    expect(existsSync(s.grid)).toBe(true);

    // fine-tune from it, freezing the down path and conv_in by diffusers' names.
    const ft = join(root, 'ft');
    const quick = { trainSize: 64, valSize: 8, 'every.validate': 2, 'every.sample': 2, 'every.checkpoint': 2, 'sampler.steps': 2, 'sampler.cols': 1 };
    await fineTuneCommand({ checkpoint: exported, freeze: ['down_blocks.*', 'conv_in.*'], out: ft, overrides: { ...quick, steps: 2, lr: 0.01, 'regularizers.ema': 0 }, quiet: true });
    const tuned = buildModel(readRunConfig(ft).model, 0);
    await loadWeights(tuned, join(ft, 'checkpoints'), false);
    for (const name of ['convIn.kernel', 'down.0.res.0.conv1.kernel', 'down.1.res.0.emb.kernel']) expect(values(tuned, name), name).toEqual(values(theirs, name));
    for (const name of ['up.0.res.0.conv1.kernel', 'convOut.kernel']) expect(values(tuned, name), name).not.toEqual(values(theirs, name));
    tuned.dispose();
    ours.dispose();
    theirs.dispose();
  });

  it('sample takes the diffusers fixture folder (16×16 RGB, no scheduler config: DDPM defaults); fine-tune and eval refuse a dataset of another size', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'demo-diffusers-fixture-')), 'unet');
    mkdirSync(dir);
    for (const f of ['config.json', 'diffusion_pytorch_model.safetensors']) cpSync(join(FIXTURE, f), join(dir, f));
    const s = await sampleCommand({ checkpoint: dir, steps: 2, n: 2, quiet: true });
    expect(s.grid.startsWith(join(dir, 'sampled'))).toBe(true);
    expect(s.rows * s.cols).toBe(4);
    await expect(fineTuneCommand({ checkpoint: dir, out: join(dir, '..', 'ft'), quiet: true })).rejects.toThrow(/--checkpoint .*: the model takes 16×16×3 images; --dataset mnist gives 28×28×1 images/);
    await expect(evalCommand({ checkpoint: dir, quiet: true })).rejects.toThrow(/--checkpoint .*: the model takes 16×16×3 images; --dataset mnist gives 28×28×1 images/);
    // A folder with only the PyTorch pickle is named as such.
    const bin = join(dir, '..', 'bin');
    mkdirSync(bin);
    cpSync(join(FIXTURE, 'config.json'), join(bin, 'config.json'));
    writeFileSync(join(bin, 'diffusion_pytorch_model.bin'), '');
    await expect(sampleCommand({ checkpoint: bin, quiet: true })).rejects.toThrow(/without diffusion_pytorch_model.safetensors .*save_pretrained/);
  });

  it("the default preset's network exports, for diffusers 0.13.0 and later", () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'demo-diffusers-default-')), 'out');
    const c = presetConfig('mnist-tiny');
    const model = buildModel(modelConfig(c, 10), 0);
    const { config } = writeDiffusersFolder(dir, model, c);
    expect(config).toMatchObject({ block_out_channels: [8, 16, 16], num_class_embeds: 11, _diffusers_version: '0.13.0' });
    expect(config.time_embedding_dim).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors', 'scheduler_config.json']);
    model.dispose();
  });

  it('export refuses a network diffusers cannot express and writes nothing', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'demo-diffusers-tiny-')), 'out');
    const tiny = new UNet(unetPreset('mnist-tiny'));
    expect(() => writeDiffusersFolder(dir, tiny, presetConfig('mnist-tiny'))).toThrow(/cannot express this network: timeFeatureDim is 32/);
    expect(existsSync(dir)).toBe(false);
    tiny.dispose();
  });
});
