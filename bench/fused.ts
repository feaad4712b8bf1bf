/**
 * What GroupNorm(+SiLU) and the AdamW update cost in one training step of a
 * U-Net preset on wasm, unfused (tfjs ops) and fused (this project's kernels).
 *
 *   npx tsx --conditions=source bench/fused.ts [--preset mnist-ref|mnist-tiny] [--micro 32] [--reps 10] [--only adamw]
 *
 * 1. `tf.profile` of one training micro-batch (createTrainer, one thread), top kernels.
 * 2. Every GroupNorm call of that step (shapes read from the profile), forward +
 *    backward with its SiLU, timed unfused and fused at the same shapes.
 * 3. One AdamW update of all the model's parameters, unfused and fused (the
 *    SIMD module, and the kernel's JavaScript loop where the module is missing).
 * The unfused figures unregister the fused kernels for the time they run.
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { initBackend, wasmKernels, type WasmKernels } from '../packages/backend/src/index.js';
import { batchSource } from '../packages/data/src/index.js';
import { loadMnist } from '../packages/data/src/node.js';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, groupNormOp, UNet, unetPreset, type UNetPresetName } from '../packages/models/src/index.js';
import { ADAMW_KERNEL, createAdamW } from '../packages/regularizers/src/index.js';
import { makeSchedule } from '../packages/schedules/src/index.js';
import { createTrainer } from '../packages/training/src/index.js';
import { kernelTable } from './profile.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const preset = opt('preset', 'mnist-ref') as UNetPresetName;
const micro = Number(opt('micro', '32'));
const reps = Number(opt('reps', '10'));
const only = opt('only', '');

const out: string[] = [];
const log = (s = '') => void out.push(s);
const machine = execSync("lscpu | grep 'Model name'").toString().trim().replace(/\s+/g, ' ');
log(`Date: ${new Date().toISOString()}; load: ${execSync('uptime').toString().trim().replace(/.*load/, 'load')}`);
log(`Command: npx tsx --conditions=source bench/fused.ts ${argv.join(' ')}`.trim());
log(`Machine: ${machine}, ${availableParallelism()} cores, Node ${process.version}, tfjs ${tf.version_core}`);
const info = await initBackend({ prefer: 'wasm', quiet: true });
log(`Backend: ${info.name}, ${info.threads} thread(s), kernels: ${info.kernels.join(', ')}`);

/** Unregisters the fused kernels (returns a function putting them back) so the same process times both paths. */
function withoutFused(): () => void {
  const saved = [GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL, ADAMW_KERNEL].map((k) => tf.getKernel(k, 'wasm')).filter((k) => k !== undefined);
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  return () => {
    for (const k of saved) tf.registerKernel(k);
  };
}
const hasFused = tf.getKernel(GROUP_NORM_KERNEL, 'wasm') !== undefined;

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timeMs(f: () => void | Promise<void>): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

const net = new UNet(unetPreset(preset), { seed: 0 });
const schedule = makeSchedule({ numTrainTimesteps: 1000, betaSchedule: 'linear' });
const mnist = loadMnist();
log(`Model: unetPreset('${preset}'), ${net.numParameters().toLocaleString('en')} parameters; micro-batch ${micro}; median of ${reps}`);

async function profileStep(label: string): Promise<{ gnShapes: { shape: number[]; silu: boolean }[] }> {
  const trainer = await createTrainer({ denoiser: net, schedule, data: batchSource(mnist, { batchSize: micro, seed: 1 }), learningRate: 1e-4, microBatch: micro });
  await trainer.trainStep();
  const stepMs = await timeMs(async () => void (await trainer.trainStep()));
  const prof = await tf.profile(async () => void (await trainer.trainStep()));
  const gnShapes: { shape: number[]; silu: boolean }[] = [];
  let means5 = 0;
  for (const k of prof.kernels) {
    // The unfused GroupNorm takes two Means over a [B, H, W, G, C/G] view per call (tf.moments).
    if (k.name === 'Mean' && k.inputShapes[0]?.length === 5 && means5++ % 2 === 0) {
      const [b, h, w, g, cg] = k.inputShapes[0] as number[];
      gnShapes.push({ shape: [b!, h!, w!, g! * cg!], silu: true });
    }
  }
  const { total, lines } = await kernelTable(prof, 14);
  await trainer.dispose();
  log();
  log(`#### ${label}: one training step of ${micro} images ${stepMs.toFixed(0)} ms (median wall time); tf.profile: ${prof.kernels.length} kernel calls, ${total.toFixed(0)} ms kernel time`);
  log();
  for (const line of lines) log(line);
  return { gnShapes };
}

/** Forward + backward (dx, dγ, dβ) of GroupNorm(+SiLU) at one shape. */
async function gnFwdBwd(shape: number[], groups: number, silu: boolean): Promise<number> {
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const gamma = tf.randomNormal([shape[3]!], 1, 0.1, 'float32', 2);
  const beta = tf.randomNormal([shape[3]!], 0, 0.1, 'float32', 3);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 4);
  const f = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(groupNormOp(a as tf.Tensor4D, g, b, { groups, epsilon: 1e-5, silu }), dy)));
  const ms = await timeMs(() => {
    const gs = f([x, gamma, beta]);
    gs[0]!.dataSync();
    tf.dispose(gs);
  });
  tf.dispose([x, gamma, beta, dy]);
  return ms;
}

const cfg = unetPreset(preset);
if (only !== 'adamw') {
  const restore = withoutFused();
  const { gnShapes } = await profileStep('unfused (tfjs ops)');
  restore();
  if (hasFused) await profileStep('fused kernels');

  // GroupNorm + SiLU, per distinct shape.
  const distinct = new Map<string, { shape: number[]; n: number }>();
  for (const s of gnShapes) {
    const k = s.shape.join('×');
    distinct.set(k, { shape: s.shape, n: (distinct.get(k)?.n ?? 0) + 1 });
  }
  log();
  log(`#### GroupNorm(${cfg.normNumGroups}) + SiLU, forward + backward (dx, dγ, dβ), ms per call`);
  log();
  log(`| shape | calls per step | unfused | fused | speed-up |`);
  log('|---|---|---|---|---|');
  let sumU = 0;
  let sumF = 0;
  for (const { shape, n } of distinct.values()) {
    const r = withoutFused();
    const u = await gnFwdBwd(shape, cfg.normNumGroups, true);
    r();
    const f = hasFused ? await gnFwdBwd(shape, cfg.normNumGroups, true) : NaN;
    sumU += n * u;
    sumF += n * f;
    log(`| ${shape.join('×')} | ${n} | ${u.toFixed(2)} | ${f.toFixed(2)} | ${(u / f).toFixed(1)}× |`);
  }
  log(`| all ${gnShapes.length} calls of a step | | ${sumU.toFixed(1)} | ${sumF.toFixed(1)} | ${(sumU / sumF).toFixed(1)}× |`);
}

/**
 * A `module` that finds no module, so the kernels take their JavaScript loops.
 * WasmKernels' `module` never returns undefined, hence the cast.
 */
const noModule = (() => undefined) as unknown as WasmKernels['module'];

// AdamW over all parameters.
{
  const params = net.parameters();
  const grads: Record<string, tf.Tensor> = {};
  params.forEach((p, i) => (grads[p.name] = tf.randomNormal(p.variable.shape, 0, 1e-3, 'float32', 100 + i)));
  log();
  log(`#### AdamW.apply over ${params.length} parameter tensors (${net.numParameters().toLocaleString('en')} values), ms per update`);
  log();
  log('| path | ms | kernel calls |');
  log('|---|---|---|');
  const kernels = wasmKernels()!;
  const module = kernels.module;
  const paths = [
    ['unfused (tfjs ops per tensor)', withoutFused],
    ['fused, the kernel\'s JavaScript loop', () => {
      kernels.module = noModule;
      return () => void (kernels.module = module);
    }],
    ['fused, the SIMD module (one TfdAdamW call)', () => () => {}],
  ] as const;
  for (const [label, setup] of paths) {
    const r = setup();
    const adam = createAdamW(params, { learningRate: 1e-6, noDecay: ['*.bias', '*.gamma', '*.beta'] });
    const ms = await timeMs(() => {
      adam.apply(grads);
      params[0]!.variable.dataSync();
    });
    const prof = await tf.profile(() => adam.apply(grads));
    log(`| ${label} | ${ms.toFixed(1)} | ${prof.kernels.length} |`);
    adam.dispose();
    r();
  }
  tf.dispose(Object.values(grads));
}

net.dispose();
console.log(out.join('\n'));
