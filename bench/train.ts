/**
 * The reference workload of bench/BENCHMARK.md, measured through the library a user
 * calls: training with `createTrainer` (AdamW, MNIST batches of 64, the demo's
 * thread count and micro-batches), the forward pass of the models package's
 * mnist-ref U-Net, and `sample(model, ddim())` with 50 steps for 64 images.
 *
 *   npx tsx --conditions=source bench/train.ts [--backend wasm|cpu] [--seconds 20] [--threads N] [--micro 32]
 *                                              [--sample-steps 50] [--sample-threads N] [--only train|forward|sample] [--profile]
 *
 * --threads (the trainer's) and --sample-threads (the sampler's: createParallelSampler,
 * as the demo's grids, `cli sample` and `cli eval`) default to the demo's
 * (min(2, cores), through planThreads as the demo does). The forward pass is
 * one call on this thread. --only measures one figure. --profile lists the
 * kernels of one single-thread training step.
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { initBackend, planThreads } from '../packages/backend/src/index.js';
import { batchSource } from '../packages/data/src/index.js';
import { loadMnist } from '../packages/data/src/node.js';
import { UNet, unetPreset } from '../packages/models/src/index.js';
import { ddim } from '../packages/samplers/src/index.js';
import { makeSchedule } from '../packages/schedules/src/index.js';
import { createTrainer } from '../packages/training/src/index.js';
import { createParallelSampler, workerThreads } from '../packages/training/src/node.js';
import { PRESETS } from '../apps/demo/src/presets.js';
import { kernelTable } from './profile.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const backendName = opt('backend', 'wasm') as 'wasm' | 'cpu';
const seconds = Number(opt('seconds', '20'));
const micro = Number(opt('micro', '32'));
const sampleSteps = Number(opt('sample-steps', '50'));
const requestedThreads = Number(opt('threads', String(PRESETS['mnist-tiny']!.threads)));
const sampleThreads = Number(opt('sample-threads', String(requestedThreads)));
const only = opt('only', 'all');
if (!['all', 'train', 'forward', 'sample'].includes(only)) throw new Error(`--only must be one of train, forward, sample; got ${only}`);
const profile = argv.includes('--profile');
const BATCH = 64;

let lastProgress = 0;
/** One status line, rewritten at most twice a second. */
const progress = (s: string) => {
  if (performance.now() - lastProgress < 500) return;
  lastProgress = performance.now();
  process.stderr.write(`\r${s}`.padEnd(100));
};
const done = () => process.stderr.write('\r'.padEnd(100) + '\r');

const out: string[] = [];
const log = (s = '') => void out.push(s);
const machine = execSync("lscpu | grep 'Model name'").toString().trim().replace(/\s+/g, ' ');
log(`Date: ${new Date().toISOString()}`);
log(`Command: npx tsx --conditions=source bench/train.ts ${argv.join(' ')}`.trim());
log(`Machine: ${machine}, ${availableParallelism()} cores, Node ${process.version}, tfjs ${tf.version_core}`);

const info = await initBackend({ prefer: backendName, quiet: true });
const plan = planThreads(requestedThreads, tf.getBackend());
const schedule = makeSchedule({ numTrainTimesteps: 1000, betaSchedule: 'linear' });
const config = unetPreset('mnist-ref');
const net = new UNet(config, { seed: 0 });
log(`Model: @tfjs-diffusion/models unetPreset('mnist-ref'), ${net.numParameters().toLocaleString('en')} parameters`);
log();
log(`### ${info.name} (${info.threads} kernel thread${info.threads > 1 ? 's' : ''}${info.kernels.length ? `, kernels: ${info.kernels.join(', ')}` : ''}); ${plan.message}`);

if (backendName === 'cpu') {
  // A 3×3 filter gradient runs at ~0.02 GFLOP/s on tfjs' cpu backend: only the forward is measured.
  const n = 8;
  const x = tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const t = tf.fill([n], 500) as tf.Tensor1D;
  tf.tidy(() => void net.predict(x, t).dataSync());
  const t0 = performance.now();
  tf.tidy(() => void net.predict(x, t).dataSync());
  log(`- forward: ${(n / ((performance.now() - t0) / 1000)).toFixed(2)} img/s (batch ${n}, one call); train: not measured (minutes per step)`);
  tf.dispose([x, t]);
} else {
  const mnist = loadMnist();
  if (only === 'all' || only === 'train') {
    const trainer = await createTrainer({
      denoiser: net,
      schedule,
      data: batchSource(mnist, { batchSize: BATCH, seed: 1 }),
      learningRate: 1e-4,
      microBatch: micro,
      parallel: plan.replicas > 1 ? workerThreads({ threads: plan.replicas }) : undefined,
    });
    await trainer.fit({ steps: 2, onStep: (e) => progress(`train: warm-up step ${e.done}/2`) });
    const before = tf.memory().numTensors;
    // Steps for `seconds`, on the library's loop: a timer stops it at the next step boundary.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), seconds * 1000);
    const t0 = performance.now();
    const { losses } = await trainer.fit({
      steps: Number.MAX_SAFE_INTEGER, signal: stop.signal,
      onStep: (e) => progress(`train: step ${e.done}, ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(e.stepsPerSecond * BATCH).toFixed(2)} img/s`),
    });
    clearTimeout(timer);
    const trainSec = (performance.now() - t0) / 1000;
    const steps = losses.length;
    const lossSum = losses.reduce((a, b) => a + b, 0);
    log(
      `- train (createTrainer, ${plan.replicas} thread${plan.replicas > 1 ? 's' : ''}, micro-batches of ${micro}): ` +
        `${((steps * BATCH) / trainSec).toFixed(2)} img/s (batch ${BATCH}, ${steps} steps in ${trainSec.toFixed(1)} s, ` +
        `mean loss ${(lossSum / steps).toFixed(4)}, tensors leaked: ${tf.memory().numTensors - before})`,
    );
    await trainer.dispose();
  }

  const x = tf.randomNormal([BATCH, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const t = tf.fill([BATCH], 500) as tf.Tensor1D;
  const labels = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32');
  if (only === 'all' || only === 'forward') {
    tf.tidy(() => void net.predict(x, t, { classLabels: labels }).dataSync());
    let calls = 0;
    const f0 = performance.now();
    while ((performance.now() - f0) / 1000 < Math.max(2, seconds / 4)) {
      tf.tidy(() => void net.predict(x, t, { classLabels: labels }).dataSync());
      calls++;
      progress(`forward: ${calls}`);
    }
    log(`- forward (UNet.predict, 1 thread): ${((calls * BATCH) / ((performance.now() - f0) / 1000)).toFixed(2)} img/s (batch ${BATCH}, ${calls} calls)`);
  }

  if (only === 'all' || only === 'sample') {
    // Workers start once (as in the demo) before the clock starts; each call copies the weights to them.
    const sampler = await createParallelSampler(net, { threads: planThreads(sampleThreads, tf.getBackend()).replicas });
    const d0 = performance.now();
    const r = await sampler.sample(net, ddim(), {
      schedule,
      shape: [BATCH, 28, 28, 1],
      numInferenceSteps: sampleSteps,
      seed: 3,
      cond: { classLabels: labels },
      onStep: (i, n) => progress(`sample: ddim step ${i + 1}/${n}`),
    });
    await r.samples.data();
    log(
      `- sample(ddim(), ${sampleSteps} steps), ${BATCH} images (createParallelSampler, ${sampler.threads} thread${sampler.threads > 1 ? 's' : ''}): ` +
        `${((performance.now() - d0) / 1000).toFixed(2)} s`,
    );
    tf.dispose([r.samples, ...r.intermediates, ...r.predictions]);
    await sampler.dispose();
  }
  tf.dispose([x, t, labels]);

  if (profile) {
    progress('profiling one single-thread training step');
    const single = await createTrainer({ denoiser: net, schedule, data: batchSource(mnist, { batchSize: micro, seed: 1 }), learningRate: 1e-4, microBatch: micro });
    await single.trainStep();
    const prof = await tf.profile(async () => void (await single.trainStep()));
    const { total, lines } = await kernelTable(prof, 12);
    log(`- top kernels of one training step of ${micro} images (createTrainer, one thread), tf.profile: ${prof.kernels.length} kernel calls, ${total.toFixed(0)} ms kernel time`);
    log('');
    for (const line of lines) log(line);
    await single.dispose();
  }
}
net.dispose();
done();
console.log(out.join('\n'));
