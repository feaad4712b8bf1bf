/**
 * Experiment 5: transfer learning. A denoiser trained on MNIST is fine-tuned
 * on Fashion-MNIST with its input and timestep layers frozen and a lower
 * learning rate, against the same network trained from scratch; validation
 * loss (fixed noise and timesteps) at equal steps.
 *
 *   npx tsx --conditions=source apps/experiments/src/transfer.ts [--steps 600] [--pretrain-steps 1000]
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@tfjs-diffusion/backend';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { MLPDenoiser } from '@tfjs-diffusion/models';
import { createTrainer } from '@tfjs-diffusion/training';
import { readModelWeights, saveCheckpoint } from '@tfjs-diffusion/training/node';
import { loadFashionMnist, loadMnist } from './mnist.js';
import { markdownTable, randomBatches, stepBudget, writeJsonResult, writeResult } from './common.js';
import { writeLinePlot } from './plot.js';

await initBackend({ prefer: 'wasm' });
const schedule = makeSchedule();
const pretrainSteps = stepBudget(1000, 'pretrain_steps');
const steps = stepBudget(600);
const every = Math.max(1, Math.floor(steps / 6));
// MLPDenoiser takes vectors as [n, 1, 1, 784]
const flat = (s: { data: Float32Array; shape: readonly number[] }) => ({ data: s.data, shape: [s.shape[0]!, 1, 1, 784] as [number, number, number, number] });
const mnist = loadMnist();
const fashion = loadFashionMnist({ perClass: 250 });
const dir = await mkdtemp(join(tmpdir(), 'transfer-'));

const mlp = { dim: 784, hidden: 512, layers: 2, predictionType: 'epsilon' } as const;
const pre = new MLPDenoiser(mlp, { seed: 1 });
const preTrainer = await createTrainer({ denoiser: pre, schedule, data: randomBatches(flat(mnist.train.images), 64, 2), learningRate: 1e-3, seed: 3, regularizers: { weightDecay: 0 } });
await preTrainer.fit({ steps: pretrainSteps });
await saveCheckpoint(preTrainer, dir);
const pretrained = (await readModelWeights(dir)).tensors;
await preTrainer.dispose();
pre.dispose();

const validation = { images: tf.tensor4d(fashion.test.images.data, flat(fashion.test.images).shape), timesteps: 10, seed: 1234 };
async function run(fineTune: boolean) {
  const net = new MLPDenoiser(mlp, { seed: 5 });
  const trainer = await createTrainer({
    denoiser: net,
    schedule,
    data: randomBatches(flat(fashion.train.images), 64, 6),
    learningRate: fineTune ? 3e-4 : 1e-3,
    seed: 7,
    regularizers: { weightDecay: 0 },
    validation,
    ...(fineTune ? { fineTune: { weights: pretrained, freeze: ['in.*', 'timeEmbed.*'] } } : {}),
  });
  const start = (await trainer.evaluate()).loss;
  const t0 = Date.now();
  const fit = await trainer.fit({ steps, every: { validate: every } });
  const secs = (Date.now() - t0) / 1000;
  const trainable = trainer.trainable().length;
  await trainer.dispose();
  net.dispose();
  return { curve: [{ step: 0, loss: start }, ...fit.validation], secs, trainable };
}
const tuned = await run(true);
const scratch = await run(false);
validation.images.dispose();
await rm(dir, { recursive: true, force: true });

const rows = tuned.curve.map((p, i) => [p.step, p.loss, scratch.curve[i]!.loss]);
const plotNote = await writeLinePlot('transfer.png', {
  title: 'MNIST -> Fashion-MNIST: validation loss',
  xLabel: 'fine-tuning step',
  yLabel: 'validation ε-MSE',
  series: [
    { name: 'fine-tuned (frozen input layers, lr 3e-4)', x: tuned.curve.map((p) => p.step), y: tuned.curve.map((p) => p.loss) },
    { name: 'from scratch (lr 1e-3)', x: scratch.curve.map((p) => p.step), y: scratch.curve.map((p) => p.loss) },
  ],
});
const md = `# Experiment 5: transfer learning, MNIST → Fashion-MNIST

Command: \`npx tsx --conditions=source apps/experiments/src/transfer.ts --steps ${steps} --pretrain-steps ${pretrainSteps}\`
(${tf.getBackend()} backend). Network: the models package's \`MLPDenoiser\` ε-predictor (dim 784, hidden 512, 2 residual blocks, sinusoidal t embedding).
Pre-training: ${pretrainSteps} steps of batch 64 on 8,000 MNIST digits (AdamW 1e-3), saved with \`saveCheckpoint\`.
Fine-tuning: \`fineTune: { weights, freeze: ['in.*', 'timeEmbed.*'] }\` (the input and timestep layers frozen; ${tuned.trainable} of the parameter tensors trained) at lr 3e-4,
versus the same network from scratch at lr 1e-3; ${steps} steps of batch 64 on 2,000 Fashion-MNIST images (250 per class, 80% for training) in [-1, 1].
Validation: ε-MSE on the other 500 Fashion-MNIST images at 10 fixed timesteps with fixed noise.

${markdownTable(['step', 'val loss, fine-tuned from MNIST', 'val loss, from scratch'], rows)}

Training time: ${tuned.secs.toFixed(0)} s fine-tuned, ${scratch.secs.toFixed(0)} s from scratch.

Plot: ${plotNote}.
`;
await writeResult('transfer.md', md);
await writeJsonResult('transfer', { steps, pretrainSteps, rows: rows.map(([step, tunedLoss, scratchLoss]) => ({ step, tunedLoss, scratchLoss })) });
console.log(md);
