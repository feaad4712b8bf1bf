/**
 * The cross-attention U-Net (diffusers' UNet2DConditionModel, the repository's test checkpoint:
 * 16×16×3, channels [32, 64], text states 7 × 32) on wasm, one thread: forward img/s and
 * loss + all gradients img/s; and its attention alone, all heads in two batched matmuls
 * (`attend`) against a loop over the heads, at the shapes of its 16×16 level (256 tokens, 32
 * channels, 8 heads; self- and cross-attention).
 *
 *   npx tsx --conditions=source bench/crossAttention.ts [--batch 16] [--ms 3000]
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../packages/backend/src/index.js';
import { attend } from '../packages/models/src/blocks/multiHeadAttention.js';
import { fromDiffusers } from '../packages/models/src/index.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const batch = arg('batch', 16);
const minMs = arg('ms', 3000);
const dir = new URL('../../shared/fixtures/diffusers-unet2dcondition-tiny/', import.meta.url);

function timeIt(f: () => void, ms: number): number {
  f();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || n < 2) { f(); n++; }
  return (performance.now() - t0) / n;
}

/** The same attention, one head at a time: what `attend` replaces. */
function perHead(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, b: number, heads: number): tf.Tensor2D {
  const c = q.shape[1];
  const d = c / heads;
  const outs: tf.Tensor[] = [];
  for (let h = 0; h < heads; h++) {
    const [qh, kh, vh] = [q, k, v].map((z) => tf.reshape(tf.slice(z, [0, h * d], [-1, d]), [b, -1, d]) as tf.Tensor3D);
    outs.push(tf.matMul(tf.softmax(tf.matMul(tf.mul(qh!, 1 / Math.sqrt(d)), kh!, false, true)), vh!));
  }
  return tf.reshape(tf.concat(outs, 2), [-1, c]);
}

const info = await initBackend({ prefer: 'wasm', threads: 1, quiet: true });
console.log(`backend ${info.name} (${info.threads} thread), batch ${batch}`);
const unet = fromDiffusers(readFileSync(new URL('config.json', dir), 'utf8'), readFileSync(new URL('diffusion_pytorch_model.safetensors', dir)));
const x = tf.randomNormal([batch, 16, 16, 3]) as tf.Tensor4D;
const t = tf.fill([batch], 500) as tf.Tensor1D;
const text = tf.randomNormal([batch, 7, 32]) as tf.Tensor3D;
const fwd = timeIt(() => tf.tidy(() => void unet.predict(x, t, { encoderHiddenStates: text }).dataSync()), minMs);
const vars = unet.parameters().map((p) => p.variable);
const train = timeIt(() => tf.tidy(() => {
  const { grads } = tf.variableGrads(() => tf.mean(tf.square(unet.predict(x, t, { encoderHiddenStates: text }))) as tf.Scalar, vars);
  for (const g of Object.values(grads)) g.dataSync();
}), minMs);
console.log(`U-Net forward: ${(batch / (fwd / 1000)).toFixed(1)} img/s (${fwd.toFixed(0)} ms per batch)`);
console.log(`U-Net loss + gradients: ${(batch / (train / 1000)).toFixed(1)} img/s (${train.toFixed(0)} ms per batch)`);

for (const [name, l] of [['self-attention 256×256', 256], ['cross-attention 256×7', 7]] as const) {
  const q = tf.randomNormal([batch * 256, 32]) as tf.Tensor2D;
  const k = tf.randomNormal([batch * l, 32]) as tf.Tensor2D;
  const v = tf.randomNormal([batch * l, 32]) as tf.Tensor2D;
  const a = timeIt(() => tf.tidy(() => void attend(q, k, v, batch, 8).dataSync()), minMs / 3);
  const p = timeIt(() => tf.tidy(() => void perHead(q, k, v, batch, 8).dataSync()), minMs / 3);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(attend(q, k, v, batch, 8), perHead(q, k, v, batch, 8)))).dataSync()[0]!);
  console.log(`${name}, 8 heads: batched ${a.toFixed(2)} ms, per-head loop ${p.toFixed(2)} ms (max |difference| ${diff.toExponential(1)})`);
  tf.dispose([q, k, v]);
}
tf.dispose([x, t, text]);
unet.dispose();
