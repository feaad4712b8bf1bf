/**
 * Memorization versus training-set size, trained (after Yoon et al. 2023;
 * Gu et al. 2023; Zhou, Zhang and Wright 2026).
 * The mnist-tiny U-Net of @tfjs-diffusion/models trained on class-balanced
 * MNIST subsets of n digits, each n with the same step budget, time-conditioned
 * and with `timeConditioning: false` side by side. Per run: training and
 * held-out loss (fixed noise, 10 timesteps), memorization rate (NN1/NN2 < 1/3)
 * of the samples, mean distance to the nearest training image, and a
 * neighbour grid (each sample beside its 3 nearest training images).
 *
 *   npx tsx --conditions=source apps/experiments/src/memorization-unet.ts --steps 3000
 *   (env: SIZES=16,64,256,1024,all  NETS=conditioned,unconditioned  NUM_SAMPLES=256  SAMPLE_STEPS=50  LOSS_IMAGES=256)
 *
 * A sweep continues: rows of the same recipe already in memorization-unet.json
 * are kept and not rerun, so it can be split over processes (NETS, SIZES) or
 * stopped and started again; the table is merged with the file when written.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@tfjs-diffusion/backend';
import { batchSource, split, subset } from '@tfjs-diffusion/data';
import { loadMnist } from '@tfjs-diffusion/data/node';
import { UNet, unetPreset } from '@tfjs-diffusion/models';
import { ddim, sample } from '@tfjs-diffusion/samplers';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { createTrainer, createValidation } from '@tfjs-diffusion/training';
import { imageGridPng, linePlotPng } from '@tfjs-diffusion/viz/node';
import { memorizationRate, neighbourGrid } from '@tfjs-diffusion/evaluation';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable, resultsDir, stepBudget, writeJsonResult, writeResult } from './common.js';

await initBackend({ prefer: process.env.BACKEND === 'cpu' ? 'cpu' : 'wasm' });
const steps = stepBudget(3000);
const batchSize = 32;
const numSamples = Number(process.env.NUM_SAMPLES ?? 256);
const sampleSteps = Number(process.env.SAMPLE_STEPS ?? 50);
// images of each loss estimate (training subset, held-out)
const lossImages = Number(process.env.LOSS_IMAGES ?? 256);
const schedule = makeSchedule({ betaSchedule: 'squaredcos_cap_v2' });
const { train: pool, validation: heldOut } = split(loadMnist(), { validation: 1000, seed: 0 });
const sizes = (process.env.SIZES ?? '16,64,256,1024,all').split(',').map((s) => (s === 'all' ? pool.shape[0] : Number(s)));
const nets = (process.env.NETS ?? 'conditioned,unconditioned').split(',');
for (const n of sizes) if (!Number.isInteger(n) || n < 1 || n > pool.shape[0]) throw new Error(`SIZES: each n must be an integer in [1, ${pool.shape[0]}] or 'all'; got ${n}`);
for (const k of nets) if (k !== 'conditioned' && k !== 'unconditioned') throw new Error(`NETS: 'conditioned' and/or 'unconditioned'; got '${k}'`);
const held = { images: tf.tensor4d(heldOut.images, heldOut.shape), timesteps: 10, seed: 1234, batchSize: 128 };
const heldLoss = createValidation({ ...held, images: tf.slice(held.images, 0, lossImages) as tf.Tensor4D }, schedule);

type Row = { network: string; n: number; steps: number; trainLoss: number; heldOutLoss: number; memorizationRate: number; meanNearestDistance: number; seconds: number };
const jsonFile = join(resultsDir, 'memorization-unet.json');
const recipe = { steps, batchSize, numSamples, sampleSteps };
// Rows of the same recipe from an earlier (or concurrent) run of the sweep.
const earlier = (): Row[] => {
  if (!existsSync(jsonFile)) return [];
  const saved = JSON.parse(readFileSync(jsonFile, 'utf8')) as typeof recipe & { rows?: Row[] };
  const same = (Object.keys(recipe) as (keyof typeof recipe)[]).every((k) => saved[k] === recipe[k]);
  return same ? (saved.rows ?? []) : [];
};
const key = (r: { network: string; n: number }) => `${r.network}/${r.n}`;
const done = new Set(earlier().map(key));
const rows: Row[] = [];
const total = nets.length * sizes.length;
let k = 0;
for (const net of nets) {
  const timeConditioning = net === 'conditioned';
  for (const n of sizes) {
    k++;
    if (done.has(key({ network: net, n }))) {
      process.stderr.write(`run ${k}/${total} (${net}, n = ${n}): in ${jsonFile} already, kept\n`);
      continue;
    }
    // 'all' is the whole pool (its classes are not exactly balanced); smaller n are class-balanced subsets.
    const train = n === pool.shape[0] ? pool : subset(pool, n, { balanced: true, seed: 1 });
    const m = Math.min(n, lossImages);
    const trainImages = tf.tensor4d(train.images.subarray(0, m * 784), [m, 28, 28, 1]);
    const trainLoss = createValidation({ images: trainImages, timesteps: 10, seed: 1234, batchSize: 128 }, schedule);
    trainImages.dispose();
    const model = new UNet(unetPreset('mnist-tiny', { numClasses: null, predictionType: 'v', timeConditioning }), { seed: 2 });
    const trainer = await createTrainer({
      denoiser: model, schedule, data: batchSource(train, { batchSize: Math.min(batchSize, n), seed: 3, labels: false }),
      learningRate: { schedule: 'cosine', peak: 4e-3, warmupSteps: Math.min(50, steps), totalSteps: Math.max(1, steps) }, regularizers: { clipGradNorm: 1, weightDecay: 0 }, seed: 4,
    });
    const t0 = Date.now();
    await trainer.fit({
      steps,
      onProgress: ({ done, total: all, loss }) => {
        if (done % 50 === 0 || done === all) {
          const s = (Date.now() - t0) / 1000;
          process.stderr.write(`run ${k}/${total} (${net}, n = ${n}): step ${done}/${all}, loss ${loss.toFixed(4)}, ${(done / s).toFixed(2)} steps/s, ETA ${(((all - done) * s) / done).toFixed(0)} s\n`);
        }
      },
    });
    const seconds = (Date.now() - t0) / 1000;
    const { samples } = await sample(model, ddim({ timestepSpacing: 'trailing' }), { schedule, shape: [numSamples, 28, 28, 1], numInferenceSteps: sampleSteps, seed: 5 });
    const trainSet = { data: train.images, shape: train.shape };
    const mem = memorizationRate(samples, trainSet);
    rows.push({
      network: net, n, steps,
      trainLoss: trainLoss.evaluate(model, 'v').loss,
      heldOutLoss: heldLoss.evaluate(model, 'v').loss,
      memorizationRate: mem.rate,
      meanNearestDistance: mem.nearestDistance.reduce((a, b) => a + b, 0) / numSamples,
      seconds,
    });
    console.log(JSON.stringify(rows.at(-1)));
    const shown = Math.min(8, numSamples);
    const first = tf.slice(samples, [0, 0, 0, 0], [shown, -1, -1, -1]);
    const g = neighbourGrid(first, trainSet, { k: 3 });
    first.dispose();
    const file = `memorization-unet-neighbours-${net}-n${n}.png`;
    await writeResult(file, imageGridPng(g.pixels, { n: g.n, height: 28, width: 28, channels: 1, cols: g.cols, scale: 2 }));
    tf.dispose(samples);
    trainLoss.dispose();
    await trainer.dispose();
    model.dispose();
  }
}
heldLoss.dispose();
held.images.dispose();
// Merged with what the file holds now, ordered by network then n.
const networks = ['conditioned', 'unconditioned'];
{
  const mine = new Set(rows.map(key));
  rows.push(...earlier().filter((r) => !mine.has(key(r))));
  rows.sort((a, b) => networks.indexOf(a.network) - networks.indexOf(b.network) || a.n - b.n);
}
const netsShown = networks.filter((x) => rows.some((r) => r.network === x));
const grids = rows.map((r) => `memorization-unet-neighbours-${r.network}-n${r.n}.png`);

const crossing = (net: string) => {
  const r = rows.filter((x) => x.network === net);
  for (let i = 1; i < r.length; i++) {
    const [a, b] = [r[i - 1]!, r[i]!];
    if (a.memorizationRate >= 0.5 && b.memorizationRate < 0.5) {
      // log-linear interpolation between the two sizes
      const f = (a.memorizationRate - 0.5) / (a.memorizationRate - b.memorizationRate);
      return Math.round(2 ** (Math.log2(a.n) + f * (Math.log2(b.n) - Math.log2(a.n))));
    }
  }
  return undefined;
};
const crossings = Object.fromEntries(netsShown.map((net) => [net, crossing(net) ?? null]));
await writeResult('memorization-unet.png', linePlotPng({
  title: 'mnist-tiny U-Net on n MNIST digits: memorization vs n',
  xLabel: 'log2 training images n', yLabel: 'memorization rate (NN1/NN2 < 1/3)', width: 640, height: 400,
  series: netsShown.map((net) => ({ name: net === 'conditioned' ? 'time-conditioned' : 'timeConditioning: false', x: rows.filter((r) => r.network === net).map((r) => Math.log2(r.n)), y: rows.filter((r) => r.network === net).map((r) => r.memorizationRate) })),
}));
const command = `npx tsx --conditions=source apps/experiments/src/memorization-unet.ts --steps ${steps}`;
await writeJsonResult('memorization-unet', { command, ...recipe, sizes: [...new Set(rows.map((r) => r.n))], crossings, rows });
const md = [
  '# Memorization versus n: a trained U-Net copies small training sets',
  '',
  `Command: \`${process.env.SIZES ? `SIZES=${process.env.SIZES} ` : ''}${command}\` (${tf.getBackend()} backend).`,
  `Model: the \`mnist-tiny\` U-Net of @tfjs-diffusion/models, unconditional, v-prediction, cosine schedule; ${steps} steps of batch min(${batchSize}, n)`,
  '(AdamW, peak lr 4e-3, cosine decay, no weight decay) on a class-balanced subset of n MNIST digits, the same budget for every n.',
  '"unconditioned": `timeConditioning: false`, the network never sees t (Zhou, Zhang and Wright 2026).',
  `Losses: v-MSE at 10 fixed timesteps with fixed noise, on (up to ${lossImages} of) the n training digits and on ${lossImages} of 1,000 held-out digits.`,
  `${numSamples} samples by DDIM (η = 0, ${sampleSteps} steps, trailing).`,
  '',
  markdownTable(['network', 'n train', 'steps', 'train loss', 'held-out loss', 'memorization rate (NN1/NN2 < 1/3)', 'mean d(nearest train)', 'training s'],
    rows.map((r) => [r.network, r.n, r.steps, r.trainLoss, r.heldOutLoss, r.memorizationRate, r.meanNearestDistance, r.seconds])),
  '',
  `n where the rate crosses 0.5 (log-linear between sizes): ${netsShown.map((net) => `${net} ${crossings[net] ?? 'not crossed'}`).join(', ')}.`,
  'Target: rate ≥ 0.5 at n = 16 and ≤ 0.05 on the whole set.',
  '',
  `Plot: \`memorization-unet.png\`; neighbour grids (8 samples, each beside its 3 nearest training digits): ${grids.map((g) => `\`${g}\``).join(', ')}.`,
  '',
].join('\n');
await writeResult('memorization-unet.md', md);
console.log(md);
