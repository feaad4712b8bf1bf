// Timing page for bench/browser.ts: one U-Net training step and one forward
// pass on the backend the URL names, through window.bench.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../packages/backend/src/index.js';
import { UNet, unetPreset, type UNetPresetName } from '../../packages/models/src/index.js';

async function run(o: { backend: string; preset: UNetPresetName; batch: number; steps: number; wasmPaths: string }) {
  const info = await initBackend({ prefer: o.backend as 'auto', wasmPaths: o.wasmPaths, quiet: true });
  const model = new UNet(unetPreset(o.preset), { seed: 1 });
  const vars = model.parameters().map((p) => p.variable);
  const opt = tf.train.adam(1e-4);
  const B = o.batch;
  const x0 = tf.randomUniform([B, 28, 28, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), 'int32');
  const step = async (i: number) => {
    const loss = opt.minimize(() => {
      const t = tf.randomUniform([B], 0, 1000, 'int32', 10 + i);
      const ab = tf.reshape(tf.cos(tf.mul(tf.div(tf.cast(t, 'float32'), 1000), Math.PI / 2)), [B, 1, 1, 1]);
      const noise = tf.randomNormal([B, 28, 28, 1], 0, 1, 'float32', 100 + i);
      const xt = tf.add(tf.mul(x0, tf.sqrt(ab)), tf.mul(noise, tf.sqrt(tf.sub(1, ab)))) as tf.Tensor4D;
      return tf.losses.meanSquaredError(noise, model.predict(xt, tf.cast(t, 'float32') as tf.Tensor1D, { classLabels: labels })) as tf.Scalar;
    }, true, vars)!;
    await loss.data();
    loss.dispose();
  };
  const forward = async () => {
    const y = tf.tidy(() => model.predict(x0, tf.fill([B], 500) as tf.Tensor1D, { classLabels: labels }));
    await y.data();
    y.dispose();
  };
  for (let i = 0; i < 2; i++) await step(i);
  await forward();
  const t0 = performance.now();
  for (let i = 0; i < o.steps; i++) await step(2 + i);
  const trainMs = (performance.now() - t0) / o.steps;
  const t1 = performance.now();
  for (let i = 0; i < o.steps; i++) await forward();
  const forwardMs = (performance.now() - t1) / o.steps;
  const params = model.numParameters();
  model.dispose();
  opt.dispose();
  tf.dispose([x0, labels]);
  return { info, params, trainMs, forwardMs, trainImgPerS: (1000 * B) / trainMs, forwardImgPerS: (1000 * B) / forwardMs };
}

/** What bench/browser.ts calls in the page. */
export type BenchRun = typeof run;

declare global {
  var bench: { run: BenchRun };
}
globalThis.bench = { run };
document.body.dataset.ready = 'true';
