// An emoji run end to end at 32 px RGB: eval judges it with another vendor's emoji; export writes a
// diffusers UNet2DModel folder that the one reader reads back to the same network.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, loadWeights } from '../src/build.js';
import { evalCommand } from '../src/commands/eval.js';
import { exportCommand } from '../src/commands/export.js';
import { trainCommand } from '../src/commands/train.js';
import { openCheckpoint } from '../src/openCheckpoint.js';
import { readRunConfig } from '../src/runFolder.js';

const root = mkdtempSync(join(tmpdir(), 'demo-emoji-'));
const run = join(root, 'run');

beforeAll(async () => {
  // UNet2DModel's embedding widths (time features = first level, embedding = 4×), so the run exports.
  await trainCommand({
    preset: 'emoji-tiny', out: run, quiet: true,
    overrides: {
      steps: 2, batchSize: 4, trainSize: 32, valSize: 18, threads: 1, 'model.overrides': { blockOutChannels: [8, 8], layersPerBlock: 1, normNumGroups: 4, timeFeatureDim: 8, embedDim: 32 },
      'every.log': 1, 'every.validate': 100, 'every.sample': 100, 'every.checkpoint': 2, 'sampler.steps': 2, 'sampler.cols': 1, 'regularizers.ema': 0.9,
    },
  });
}, 180_000);

describe('an emoji run (32 px RGB, 9 categories)', () => {
  it('eval trains its classifier on another vendor (twitter for google) and reports every figure', async () => {
    const before = tf.memory().numTensors;
    const e = await evalCommand({ checkpoint: run, n: 1, steps: 2, classifierEpochs: 1, classifierTrainSize: 64, out: join(root, 'eval'), quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(e.samples).toBe(9);
    const report = readFileSync(e.report, 'utf8');
    expect(report).toContain('The classifier learned --dataset emoji-twitter');
    expect(report).toContain('classifier accuracy on held-out real images (emoji-twitter)');
    for (const v of [e.memorizationRate, e.classifierAccuracy!, e.classifierTestAccuracy, e.frechetDistance, e.frechetDistanceReference]) expect(Number.isFinite(v)).toBe(true);
    expect(existsSync(join(root, '.classifier-emoji-twitter-32-64-1'))).toBe(true);
  }, 240_000);

  it('export writes a 3-channel 32 px UNet2DModel folder; read back by the one reader it gives the same outputs', async () => {
    const out = join(root, 'exported');
    const e = await exportCommand({ checkpoint: run, format: 'diffusers', out, quiet: true });
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ _class_name: 'UNet2DModel', sample_size: 32, in_channels: 3, out_channels: 3, num_class_embeds: 10 });
    expect(e.weights).toBe('ema');
    const back = await openCheckpoint(out);
    expect(back.run.dataset).toMatchObject({ height: 32, width: 32, channels: 3, numClasses: 9 });
    const before = tf.memory().numTensors;
    const ours = buildModel(readRunConfig(run).model, 0);
    await loadWeights(ours, join(run, 'checkpoints'));
    const theirs = buildModel(back.run.model, 1);
    expect((await loadWeights(theirs, back.checkpoint)).source).toBe('diffusers');
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([400, 20]);
    const labels = tf.tensor1d([3, 8], 'int32');
    const [ya, yb] = [ours.predict(x, t, { classLabels: labels }), theirs.predict(x, t, { classLabels: labels })];
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, t, labels, ya, yb]);
    ours.dispose();
    theirs.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
