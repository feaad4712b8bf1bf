// The page behind src/diffusers.browser.test.ts: loads a diffusers folder the way
// a page gets it (config text and weights as an ArrayBuffer, from fetch) and
// compares the forward with diffusers' output, on each backend asked for.
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, fromDiffusers } from '../src/index.js';

async function forwardError(baseUrl: string, backend: string): Promise<{ backend: string; maxAbs: number; std: number }> {
  await tf.setBackend(backend);
  await tf.ready();
  const [config, weights, ioBytes] = await Promise.all([
    fetch(`${baseUrl}/config.json`).then((r) => r.text()),
    fetch(`${baseUrl}/diffusion_pytorch_model.safetensors`).then((r) => r.arrayBuffer()),
    fetch(`${baseUrl}/io.safetensors`).then((r) => r.arrayBuffer()),
  ]);
  const io = decodeSafetensors(new Uint8Array(ioBytes)).tensors;
  const model = fromDiffusers(config, weights);
  const got = tf.tidy(() => {
    const s = io.sample!;
    const x = tf.transpose(tf.tensor4d(s.data as Float32Array, s.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
    const t = tf.tensor1d(Array.from(io.timestep!.data as BigInt64Array, Number));
    const e = io.encoder_hidden_states; // a UNet2DConditionModel's text states
    const cond = e ? { encoderHiddenStates: tf.tensor3d(e.data as Float32Array, e.shape as [number, number, number]) } : undefined;
    return tf.transpose(model.predict(x, t, cond), [0, 3, 1, 2]).dataSync() as Float32Array;
  });
  model.dispose();
  const want = io.output!.data as Float32Array;
  let maxAbs = 0;
  let mean = 0;
  for (let i = 0; i < want.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!)); mean += want[i]!; }
  mean /= want.length;
  const std = Math.sqrt(want.reduce((a, v) => a + (v - mean) ** 2, 0) / want.length);
  return { backend: tf.getBackend(), maxAbs, std };
}

const api = { forwardError };
(globalThis as { diffusersTest?: typeof api }).diffusersTest = api;
document.body.dataset.ready = 'true';
