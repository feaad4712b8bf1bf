/**
 * The emoji preset's workload, measured through the library a user calls: the
 * demo's `emoji-tiny` U-Net (32×32×3, class-conditional on the 9 categories, as
 * `modelConfig` builds it) trained with `createTrainer` on 32 px Google emoji at
 * the preset's batch size, learning rate, EMA and thread count, then
 * `sample(model, ddim())` with 50 steps for 64 images (no guidance, as the mnist line).
 *
 *   npx tsx --conditions=source bench/emoji.ts [--seconds 20] [--threads N] [--sample-threads N] [--sample-steps 50] [--only train|sample]
 *
 * Needs `emoji-datasource-google` (a dev dependency of the data package).
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { initBackend, planThreads } from '../packages/backend/src/index.js';
import { batchSource } from '../packages/data/src/index.js';
import { loadEmoji } from '../packages/data/src/node.js';
import { UNet, type UNetConfig } from '../packages/models/src/index.js';
import { ddim } from '../packages/samplers/src/index.js';
import { makeSchedule } from '../packages/schedules/src/index.js';
import { createTrainer } from '../packages/training/src/index.js';
import { createParallelSampler, workerThreads } from '../packages/training/src/node.js';
import { modelConfig } from '../apps/demo/src/build.js';
import { presetConfig } from '../apps/demo/src/presets.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const demo = presetConfig('emoji-tiny');
const seconds = Number(opt('seconds', '20'));
const sampleSteps = Number(opt('sample-steps', '50'));
const requestedThreads = Number(opt('threads', String(demo.threads)));
const sampleThreads = Number(opt('sample-threads', String(requestedThreads)));
const only = opt('only', 'all');
if (!['all', 'train', 'sample'].includes(only)) throw new Error(`--only must be one of train, sample; got ${only}`);
const SIZE = 32;
const SAMPLES = 64;
const load = () => loadavg().map((v) => v.toFixed(1)).join(', ');

const progress = (s: string): void => void process.stderr.write(`\r${s}`.padEnd(100));
const out: string[] = [];
const log = (s = '') => void out.push(s);
log(`Date: ${new Date().toISOString()}; load average at start: ${load()}`);
log(`Command: npx tsx --conditions=source bench/emoji.ts ${argv.join(' ')}`.trim());
log(`Machine: ${execSync("lscpu | grep 'Model name'").toString().trim().replace(/\s+/g, ' ')}, ${availableParallelism()} cores, Node ${process.version}, tfjs ${tf.version_core}`);

const info = await initBackend({ prefer: 'wasm', quiet: true });
const plan = planThreads(requestedThreads, tf.getBackend());
const schedule = makeSchedule({ ...demo.schedule });
const emoji = await loadEmoji({ size: SIZE });
const numClasses = emoji.classNames!.length;
const config = modelConfig(demo, numClasses, { height: SIZE, width: SIZE, channels: 3 }) as unknown as UNetConfig;
const net = new UNet(config, { seed: 0 });
log(`Model: the demo's preset 'emoji-tiny' (${SIZE}×${SIZE}×3, ${numClasses} classes), ${net.numParameters().toLocaleString('en')} parameters; data: ${emoji.shape[0].toLocaleString('en')} Google emoji at ${SIZE} px`);
log();
log(`### ${info.name} (${info.threads} kernel thread${info.threads > 1 ? 's' : ''}${info.kernels.length ? `, kernels: ${info.kernels.join(', ')}` : ''}); ${plan.message}`);

if (only === 'all' || only === 'train') {
  const batch = demo.batchSize;
  const trainer = await createTrainer({
    denoiser: net,
    schedule,
    data: batchSource(emoji, { batchSize: batch, seed: 1, labels: true }),
    learningRate: demo.lr,
    regularizers: { ema: { decay: demo.regularizers.ema, useEmaWarmup: true, power: 3 / 4 } },
    parallel: plan.replicas > 1 ? workerThreads({ threads: plan.replicas }) : undefined,
  });
  await trainer.fit({ steps: 2, onStep: (e) => progress(`train: warm-up step ${e.done}/2`) });
  const before = tf.memory().numTensors;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), seconds * 1000);
  const t0 = performance.now();
  const { losses } = await trainer.fit({
    steps: Number.MAX_SAFE_INTEGER, signal: stop.signal,
    onStep: (e) => progress(`train: step ${e.done}, ${((performance.now() - t0) / 1000).toFixed(1)} s`),
  });
  clearTimeout(timer);
  const sec = (performance.now() - t0) / 1000;
  log(
    `- emoji-tiny train (createTrainer, ${plan.replicas} thread${plan.replicas > 1 ? 's' : ''}, EMA): ` +
      `${((losses.length * batch) / sec).toFixed(2)} img/s (batch ${batch}, ${losses.length} steps in ${sec.toFixed(1)} s, ` +
      `tensors leaked: ${tf.memory().numTensors - before})`,
  );
  await trainer.dispose();
}

if (only === 'all' || only === 'sample') {
  const labels = tf.tensor1d(Array.from({ length: SAMPLES }, (_, i) => i % numClasses), 'int32');
  const sampler = await createParallelSampler(net, { threads: planThreads(sampleThreads, tf.getBackend()).replicas });
  const d0 = performance.now();
  const r = await sampler.sample(net, ddim(), {
    schedule, shape: [SAMPLES, SIZE, SIZE, 3], numInferenceSteps: sampleSteps, seed: 3, cond: { classLabels: labels },
    onStep: (i, n) => progress(`sample: ddim step ${i + 1}/${n}`),
  });
  await r.samples.data();
  log(
    `- emoji-tiny sample(ddim(), ${sampleSteps} steps), ${SAMPLES} images of ${SIZE}×${SIZE}×3 (createParallelSampler, ${sampler.threads} thread${sampler.threads > 1 ? 's' : ''}): ` +
      `${((performance.now() - d0) / 1000).toFixed(2)} s`,
  );
  tf.dispose([r.samples, ...r.intermediates, ...r.predictions, labels]);
  await sampler.dispose();
}
log(`Load average at end: ${load()}`);
net.dispose();
process.stderr.write('\r'.padEnd(100) + '\r');
console.log(out.join('\n'));
