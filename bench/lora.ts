/**
 * LoRA against full fine-tuning of the demo's mnist-tiny U-Net on MNIST, through the library a
 * user calls (createTrainer; loraTrainable for the adapter): training speed, tfjs memory after
 * the first steps, optimizer state, and the size of what a run writes (the adapter file against
 * the model file and the full checkpoint).
 *
 *   npx tsx --conditions=source bench/lora.ts [--backend wasm|cpu] [--seconds 20] [--rank 4] [--targets conv1,conv2,time_emb_proj]
 *
 * One thread (worker threads do not take adapters), batches of 64.
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { initBackend } from '../packages/backend/src/index.js';
import { batchSource } from '../packages/data/src/index.js';
import { loadMnist } from '../packages/data/src/node.js';
import { addLora, encodeLora, encodeSafetensors, loraTrainable, modelTensors, UNet, unetPreset } from '../packages/models/src/index.js';
import { makeSchedule } from '../packages/schedules/src/index.js';
import { createTrainer, encodeCheckpoint } from '../packages/training/src/index.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const backendName = opt('backend', 'wasm') as 'wasm' | 'cpu';
const seconds = Number(opt('seconds', '20'));
const rank = Number(opt('rank', '4'));
const targets = opt('targets', 'conv1,conv2,time_emb_proj').split(',');
const BATCH = 64;

const out: string[] = [];
const log = (s = '') => void out.push(s);
const machine = execSync("lscpu | grep 'Model name'").toString().trim().replace(/\s+/g, ' ');
log(`Date: ${new Date().toISOString()}`);
log(`Command: npx tsx --conditions=source bench/lora.ts ${argv.join(' ')}`.trim());
log(`Machine: ${machine}, ${availableParallelism()} cores, Node ${process.version}, tfjs ${tf.version_core}`);
const info = await initBackend({ prefer: backendName, quiet: true });
log(`Backend: ${info.name}, 1 thread, batch ${BATCH}, mnist-tiny; LoRA rank ${rank} on ${targets.join(', ')}`);
log();

const mnist = loadMnist();
const schedule = makeSchedule({ numTrainTimesteps: 1000, betaSchedule: 'linear' });
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const kb = (n: number) => `${(n / 1e3).toFixed(1)} kB`;

log('| | trained floats | Adam state floats | img/s | tfjs memory | written per run |');
log('|---|---|---|---|---|---|');
for (const mode of ['full', 'lora'] as const) {
  const net = new UNet(unetPreset('mnist-tiny'), { seed: 0 });
  const adapter = mode === 'lora' ? addLora(net, { rank, targets }) : undefined;
  const trainer = await createTrainer({
    denoiser: adapter ? loraTrainable(net) : net,
    schedule,
    data: batchSource(mnist, { batchSize: BATCH, seed: 1, labels: true }),
    learningRate: 1e-4,
    regularizers: { ema: { decay: 0.999 } },
  });
  await trainer.fit({ steps: 2 });
  const memory = tf.memory().numBytes;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), seconds * 1000);
  const t0 = performance.now();
  const { losses } = await trainer.fit({ steps: Number.MAX_SAFE_INTEGER, signal: stop.signal });
  clearTimeout(timer);
  const ips = (losses.length * BATCH) / ((performance.now() - t0) / 1000);
  const adam = trainer.optimizer.state();
  const floats = Object.values(adam.m).reduce((n, x) => n + x.data.length, 0) * 2;
  const files = encodeCheckpoint(trainer.checkpoint());
  const ckBytes = Object.values(files).reduce((n, f) => n + (typeof f === 'string' ? f.length : f.byteLength), 0);
  const trained = trainer.trainable().reduce((n, p) => n + p.variable.size, 0);
  const written = adapter
    ? `adapter file ${kb(encodeLora(adapter).byteLength)}; checkpoint ${kb(ckBytes)}`
    : `model file ${kb(encodeSafetensors(modelTensors(net)).byteLength)}; checkpoint ${kb(ckBytes)}`;
  log(`| ${mode === 'full' ? 'full fine-tuning' : `LoRA r=${rank}`} | ${trained.toLocaleString('en')} | ${floats.toLocaleString('en')} | ${ips.toFixed(1)} (${losses.length} steps) | ${mb(memory)} | ${written} |`);
  await trainer.dispose();
  adapter?.remove();
  net.dispose();
}
console.log(out.join('\n'));
