/**
 * LoRA against full fine-tuning at the same budget: the playground's shipped mnist-tiny U-Net
 * (trained on MNIST) adapted to Fashion-MNIST, validation loss (fixed noise and timesteps) at
 * equal steps, and what each trains and writes.
 *
 *   npx tsx --conditions=source apps/experiments/src/lora.ts [--steps 200]
 */
import * as tf from '@tensorflow/tfjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@tfjs-diffusion/backend';
import { addLora, encodeLora, encodeSafetensors, loraTrainable, modelTensors, type UNet } from '@tfjs-diffusion/models';
import { createTrainer } from '@tfjs-diffusion/training';
import { loadModelFrom } from '@tfjs-diffusion/training/node';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { loadFashionMnist } from './mnist.js';
import { markdownTable, randomBatches, stepBudget, writeJsonResult, writeResult } from './common.js';
import { writeLinePlot } from './plot.js';

await initBackend({ prefer: 'wasm' });
const steps = stepBudget(200);
const every = Math.max(1, Math.floor(steps / 4));
const base = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playground', 'public', 'models', 'mnist-tiny');
// The shipped run's schedule (its config.json): cosine betas, 1000 steps, v prediction.
const schedule = makeSchedule({ numTrainTimesteps: 1000, betaSchedule: 'squaredcos_cap_v2' });
const fashion = loadFashionMnist({ perClass: 250 });
const validation = { images: tf.tensor4d(fashion.test.images.data, fashion.test.images.shape), timesteps: 10, seed: 1234 };

interface Arm { name: string; lr: number; lora?: { rank: number; targets: string[] } }
const arms: Arm[] = [
  { name: 'full fine-tuning', lr: 1e-3 },
  { name: 'LoRA r=4 (conv1, conv2, time_emb_proj)', lr: 1e-3, lora: { rank: 4, targets: ['conv1', 'conv2', 'time_emb_proj'] } },
  { name: 'LoRA r=4, lr × 4', lr: 4e-3, lora: { rank: 4, targets: ['conv1', 'conv2', 'time_emb_proj'] } },
];
let baseParameters = 0;
const results: { arm: string; curve: { step: number; loss: number }[]; secs: number; trained: number; bytes: number }[] = [];
for (const arm of arms) {
  const { model } = await loadModelFrom(base);
  const net = model as UNet;
  baseParameters = net.numParameters();
  const adapter = arm.lora ? addLora(net, arm.lora) : undefined;
  const trainer = await createTrainer({
    denoiser: adapter ? loraTrainable(net) : net, schedule, prediction: net.prediction,
    data: randomBatches(fashion.train.images, 32, 6), learningRate: arm.lr, seed: 7, validation,
  });
  const start = (await trainer.evaluate()).loss;
  const t0 = Date.now();
  const fit = await trainer.fit({ steps, every: { validate: every } });
  const secs = (Date.now() - t0) / 1000;
  const trained = trainer.trainable().reduce((n, p) => n + p.variable.size, 0);
  const bytes = adapter ? encodeLora(adapter).byteLength : encodeSafetensors(modelTensors(net)).byteLength;
  results.push({ arm: arm.name, curve: [{ step: 0, loss: start }, ...fit.validation.map((v) => ({ step: v.step, loss: v.loss }))], secs, trained, bytes });
  await trainer.dispose();
  adapter?.remove();
  net.dispose();
}
validation.images.dispose();

const plotNote = await writeLinePlot('lora.png', {
  title: 'mnist-tiny, MNIST -> Fashion-MNIST: validation loss',
  xLabel: 'fine-tuning step',
  yLabel: 'validation v-MSE',
  series: results.map((r) => ({ name: r.arm, x: r.curve.map((p) => p.step), y: r.curve.map((p) => p.loss) })),
});
const rows = results[0]!.curve.map((p, i) => [p.step, ...results.map((r) => r.curve[i]!.loss.toFixed(4))]);
const md = `# LoRA against full fine-tuning, MNIST → Fashion-MNIST

Command: \`npx tsx --conditions=source apps/experiments/src/lora.ts --steps ${steps}\` (${tf.getBackend()} backend).
Start: the playground's shipped mnist-tiny U-Net (${baseParameters.toLocaleString('en')} parameters, v prediction, trained 3000 steps on MNIST).
Each arm: ${steps} steps of batch 32 on 2,000 Fashion-MNIST images (250 per class, 80 % for training), AdamW, no labels
(the null class). Validation: the loss on the other 500 images at 10 fixed timesteps with fixed noise.

${markdownTable(['step', ...results.map((r) => `val loss, ${r.arm}`)], rows)}

${markdownTable(['arm', 'trained floats', 'written', 'training time'], results.map((r) => [r.arm, r.trained.toLocaleString('en'), `${(r.bytes / 1e3).toFixed(1)} kB`, `${r.secs.toFixed(0)} s`]))}

Training times are on a shared machine (other work running): compare them with bench/lora.ts, not here.

Plot: ${plotNote}.
`;
await writeResult('lora.md', md);
await writeJsonResult('lora', { steps, results });
console.log(md);
