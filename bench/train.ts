/**
 * The reference workload of BENCHMARK.md: train img/s (batch 64), forward
 * img/s and DDIM-50 wall time for 64 images, per backend, plus the kernels
 * that take the most time in one training step (tf.profile).
 *
 *   npx tsx --conditions=source bench/train.ts [--backend wasm|cpu|all] [--seconds 20] [--micro 32] [--no-profile] [--procs 2 [--procs-only]] [--threads 1,2]
 *
 * --procs N also runs N independent training processes at once (one per
 * core, wasm) and reports their summed img/s: what data parallelism over
 * worker threads can reach at most on this machine.
 *
 * --threads 1,2 measures the training package's trainer (AdamW, MNIST
 * batches of 64) on wasm with each number of data-parallel threads.
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { initBackend } from '../packages/backend/src/index.js';
import { createRng, makeSchedule, timesteps } from '../packages/schedules/src/index.js';
import { UNet, unetPreset } from '../packages/models/src/index.js';
import { batchSource, loadMnist } from '../packages/data/src/index.js';
import { createTrainer } from '../packages/training/src/index.js';
import { workerThreads } from '../packages/training/src/node.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const which = opt('backend', 'all');
const seconds = Number(opt('seconds', '20'));
const micro = Number(opt('micro', '32'));
const profile = !argv.includes('--no-profile');
const procs = Number(opt('procs', '1'));
const trainOnly = argv.includes('--train-only');
const skipSingle = argv.includes('--procs-only') || argv.includes('--threads-only');
const threadList = opt('threads', '').split(',').filter(Boolean).map(Number);
const BATCH = 64;

let lastProgress = 0;
/** One status line, rewritten at most twice a second. */
const progress = (s: string) => {
  if (performance.now() - lastProgress < 500) return;
  lastProgress = performance.now();
  process.stderr.write(`\r${s}`.padEnd(100));
};
const done = () => process.stderr.write('\r'.padEnd(100) + '\r');

/** The models package's mnist-ref U-Net behind the bench's small model interface. */
async function loadModel(): Promise<{ model: BenchModel; source: string }> {
  const net = new UNet(unetPreset('mnist-ref'), { seed: 0 });
  return {
    source: "@tfjs-diffusion/models unetPreset('mnist-ref')",
    model: {
      predict: (x, t, labels, training, seed) => net.predict(x, t, { classLabels: labels }, { training, seed }),
      variables: () => net.parameters().map((p) => p.variable),
      numParameters: () => net.numParameters(),
    },
  };
}

interface BenchModel {
  predict(x: tf.Tensor4D, t: tf.Tensor1D, labels: tf.Tensor1D, training: boolean, seed: number): tf.Tensor4D;
  variables(): tf.Variable[];
  numParameters(): number;
}

const schedule = makeSchedule({ numTrainTimesteps: 1000, betaSchedule: 'linear' });
const rng = createRng(1234);

function noisedBatch(x0: tf.Tensor4D, from: number, n: number) {
  return tf.tidy(() => {
    const ts = Array.from({ length: n }, () => rng.nextInt(1000));
    const a = ts.map((t) => Math.sqrt(schedule.alphasCumprod[t]!));
    const s = ts.map((t) => Math.sqrt(1 - schedule.alphasCumprod[t]!));
    const x = tf.slice(x0, [from, 0, 0, 0], [n, 28, 28, 1]);
    const noise = tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', rng.nextSeed());
    const xt = tf.add(tf.mul(x, tf.tensor4d(a, [n, 1, 1, 1])), tf.mul(noise, tf.tensor4d(s, [n, 1, 1, 1]))) as tf.Tensor4D;
    return { xt, noise, t: tf.tensor1d(ts, 'float32'), labels: tf.tensor1d(ts.map(() => rng.nextInt(11)), 'int32') };
  });
}

function makeTrainStep(model: BenchModel, x0: tf.Tensor4D, optimizer: tf.Optimizer, microBatch: number) {
  const vars = model.variables();
  return () => {
    let acc: tf.NamedTensorMap | null = null;
    let loss = 0;
    for (let from = 0; from < BATCH; from += microBatch) {
      const b = noisedBatch(x0, from, microBatch);
      const seed = rng.nextSeed();
      const { value, grads } = tf.variableGrads(() =>
        tf.losses.meanSquaredError(b.noise, model.predict(b.xt, b.t, b.labels, true, seed)) as tf.Scalar, vars);
      loss += value.dataSync()[0]! * microBatch / BATCH;
      value.dispose();
      tf.dispose([b.xt, b.noise, b.t, b.labels]);
      if (acc === null) acc = grads;
      else {
        const prev: tf.NamedTensorMap = acc;
        acc = Object.fromEntries(Object.keys(prev).map((k) => [k, tf.add(prev[k]!, grads[k]!)]));
        tf.dispose([Object.values(prev), Object.values(grads)]);
      }
    }
    const scale = microBatch / BATCH;
    const mean = tf.tidy(() => Object.fromEntries(Object.entries(acc!).map(([k, g]) => [k, tf.mul(g, scale)])));
    tf.dispose(Object.values(acc!));
    optimizer.applyGradients(mean);
    tf.dispose(Object.values(mean));
    return loss;
  };
}

function forward(model: BenchModel, x: tf.Tensor4D, t: tf.Tensor1D, labels: tf.Tensor1D) {
  tf.tidy(() => { model.predict(x, t, labels, false, 0).dataSync(); });
}

/** DDIM (η = 0) with 50 leading timesteps, ε-prediction: Song et al. 2021, eq. 12. */
function ddim(model: BenchModel, n: number) {
  const ts = timesteps(schedule, 50, { timestepSpacing: 'leading', stepsOffset: 1 });
  let x = tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', rng.nextSeed()) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'int32');
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const prev = i + 1 < ts.length ? ts[i + 1]! : -1;
    const a = schedule.alphasCumprod[t]!;
    const ap = prev >= 0 ? schedule.alphasCumprod[prev]! : 1;
    const next = tf.tidy(() => {
      const eps = model.predict(x, tf.fill([n], t), labels, false, 0);
      const x0 = tf.div(tf.sub(x, tf.mul(eps, Math.sqrt(1 - a))), Math.sqrt(a));
      return tf.add(tf.mul(x0, Math.sqrt(ap)), tf.mul(eps, Math.sqrt(1 - ap))) as tf.Tensor4D;
    });
    x.dispose();
    x = next;
    progress(`  ddim step ${i + 1}/50`);
  }
  x.dataSync();
  tf.dispose([x, labels]);
}

async function topKernels(f: () => void, n = 12) {
  const info = await tf.profile(f);
  const byName = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs);
    if (!Number.isFinite(ms)) continue;
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms; e.calls++; total += ms;
    byName.set(k.name, e);
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, n);
  return { total, calls: info.kernels.length, rows };
}

const out: string[] = [];
const log = (s = '') => { out.push(s); };
const machine = execSync("lscpu | grep 'Model name'").toString().trim().replace(/\s+/g, ' ');
log(`Date: ${new Date().toISOString()}`);
log(`Command: npx tsx --conditions=source bench/train.ts ${argv.join(' ')}`.trim());
log(`Machine: ${machine}, ${(await import('node:os')).availableParallelism()} cores, Node ${process.version}, tfjs ${tf.version_core}`);

const { model, source } = await loadModel();
log(`Model: ${source}, ${model.numParameters().toLocaleString('en')} parameters`);

for (const backendName of (skipSingle ? [] : which === 'all' ? ['wasm', 'cpu'] : [which]) as ('wasm' | 'cpu')[]) {
  const info = await initBackend({ prefer: backendName, quiet: true });
  log();
  log(`### ${info.name} (${info.threads} thread${info.threads > 1 ? 's' : ''}${info.kernels.length ? `, kernels: ${info.kernels.join(', ')}` : ''})`);
  const x0 = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 7), 2), 1)) as tf.Tensor4D;

  if (backendName === 'cpu') {
    // A 3×3 filter gradient runs at ~0.02 GFLOP/s here: only the forward is measured.
    const n = 8;
    const xs = tf.slice(x0, [0, 0, 0, 0], [n, 28, 28, 1]);
    const t = tf.fill([n], 500) as tf.Tensor1D;
    const labels = tf.zeros([n], 'int32') as tf.Tensor1D;
    forward(model, xs, t, labels);
    const t0 = performance.now();
    forward(model, xs, t, labels);
    log(`- forward: ${(n / ((performance.now() - t0) / 1000)).toFixed(2)} img/s (batch ${n}, one call); train: not measured (minutes per step)`);
    tf.dispose([xs, t, labels, x0]);
    continue;
  }

  const optimizer = tf.train.adam(1e-4);
  const step = makeTrainStep(model, x0, optimizer, micro);
  for (let i = 0; i < 2; i++) { progress(`${info.name}: warm-up step ${i + 1}/2`); step(); }
  const numBefore = tf.memory().numTensors;
  let steps = 0;
  let lossSum = 0;
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < seconds) {
    lossSum += step();
    steps++;
    const el = (performance.now() - t0) / 1000;
    progress(`${info.name}: train step ${steps}, ${el.toFixed(1)} s, ${(steps * BATCH / el).toFixed(2)} img/s, loss ${(lossSum / steps).toFixed(4)}`);
  }
  const trainSec = (performance.now() - t0) / 1000;
  const leaked = tf.memory().numTensors - numBefore;
  log(`- train: ${(steps * BATCH / trainSec).toFixed(2)} img/s (batch ${BATCH} as ${BATCH / micro} × ${micro}, ${steps} steps in ${trainSec.toFixed(1)} s, mean loss ${(lossSum / steps).toFixed(4)}, tensors leaked per run: ${leaked})`);

  if (trainOnly) {
    console.log(JSON.stringify({ imgPerSec: steps * BATCH / trainSec, steps, seconds: trainSec }));
    process.exit(0);
  }
  const t = tf.fill([BATCH], 500) as tf.Tensor1D;
  const labels = tf.zeros([BATCH], 'int32') as tf.Tensor1D;
  forward(model, x0, t, labels);
  let calls = 0;
  const f0 = performance.now();
  while ((performance.now() - f0) / 1000 < Math.max(5, seconds / 4)) {
    forward(model, x0, t, labels); calls++;
    progress(`${info.name}: forward ${calls}`);
  }
  log(`- forward: ${(calls * BATCH / ((performance.now() - f0) / 1000)).toFixed(2)} img/s (batch ${BATCH}, ${calls} calls)`);

  const d0 = performance.now();
  ddim(model, BATCH);
  log(`- DDIM-50, 64 images: ${((performance.now() - d0) / 1000).toFixed(2)} s`);

  if (profile) {
    progress(`${info.name}: profiling one micro-batch step`);
    const prof = await topKernels(() => {
      const b = noisedBatch(x0, 0, micro);
      const { value, grads } = tf.variableGrads(() =>
        tf.losses.meanSquaredError(b.noise, model.predict(b.xt, b.t, b.labels, true, 1)) as tf.Scalar, model.variables());
      tf.dispose([value, Object.values(grads), b.xt, b.noise, b.t, b.labels]);
    });
    log(`- top kernels of one training micro-batch (${micro} images, forward + backward), tf.profile: ${prof.calls} kernel calls, ${prof.total.toFixed(0)} ms kernel time`);
    log('');
    log('| kernel | ms | % | calls |');
    log('|---|---|---|---|');
    for (const [name, e] of prof.rows) log(`| ${name} | ${e.ms.toFixed(1)} | ${(100 * e.ms / prof.total).toFixed(1)} | ${e.calls} |`);
  }
  tf.dispose([t, labels, x0]);
  optimizer.dispose();
}
if (procs > 1) {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  progress(`${procs} training processes at once ...`);
  const runs = await Promise.all(Array.from({ length: procs }, () => new Promise<{ imgPerSec: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url),
      '--backend', 'wasm', '--train-only', '--seconds', String(seconds), '--micro', String(micro)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
    child.on('exit', (code) => {
      const line = text.trim().split('\n').pop() ?? '';
      try { resolve(JSON.parse(line) as { imgPerSec: number }); } catch { reject(new Error(`child exited with ${code}: ${text}`)); }
    });
  })));
  log();
  log(`### ${procs} wasm training processes at once (one per core)`);
  log(`- train: ${runs.reduce((a, r) => a + r.imgPerSec, 0).toFixed(2)} img/s in total (${runs.map((r) => r.imgPerSec.toFixed(2)).join(' + ')})`);
}
if (threadList.length > 0) {
  await initBackend({ prefer: 'wasm', quiet: true });
  const mnist = loadMnist();
  log();
  log('### the trainer on wasm (createTrainer, AdamW, MNIST batches of 64, micro-batches of 32 per thread)');
  for (const threads of threadList) {
    const net = new UNet(unetPreset('mnist-ref'), { seed: 0 });
    const trainer = await createTrainer({
      denoiser: net, schedule, data: batchSource(mnist, { batchSize: BATCH, seed: 1 }), learningRate: 1e-4,
      parallel: threads > 1 ? workerThreads({ threads }) : undefined,
    });
    for (let i = 0; i < 2; i++) { progress(`trainer, ${threads} thread(s): warm-up ${i + 1}/2`); await trainer.trainStep(); }
    let steps = 0;
    const t0 = performance.now();
    while ((performance.now() - t0) / 1000 < seconds) {
      await trainer.trainStep();
      steps++;
      progress(`trainer, ${threads} thread(s): step ${steps}, ${(steps * BATCH / ((performance.now() - t0) / 1000)).toFixed(2)} img/s`);
    }
    const sec = (performance.now() - t0) / 1000;
    log(`- ${threads} thread${threads > 1 ? 's' : ''}: ${(steps * BATCH / sec).toFixed(2)} img/s (${steps} steps in ${sec.toFixed(1)} s)`);
    await trainer.dispose();
    net.dispose();
  }
}
done();
console.log(out.join('\n'));
