// diffusers' UNet2DConditionModel fixture on the wasm backend this package sets up (fused GroupNorm,
// its matmuls and Erf), against the output diffusers gave, as the models package checks on cpu.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, fromDiffusers } from '@tfjs-diffusion/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './initBackend.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/diffusers-unet2dcondition-tiny/', import.meta.url));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', quiet: true });
});

describe('the cross-attention U-Net on wasm', () => {
  it("gives diffusers' output within 1e-3 of its standard deviation", () => {
    expect(tf.getBackend()).toBe('wasm');
    const io = decodeSafetensors(readFileSync(`${FIXTURE}io.safetensors`)).tensors;
    const model = fromDiffusers(readFileSync(`${FIXTURE}config.json`, 'utf8'), readFileSync(`${FIXTURE}diffusion_pytorch_model.safetensors`));
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const s = io.sample!;
      const x = tf.transpose(tf.tensor4d(s.data as Float32Array, s.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
      const t = tf.tensor1d(Array.from(io.timestep!.data as BigInt64Array, Number));
      const e = io.encoder_hidden_states!;
      const out = model.predict(x, t, { encoderHiddenStates: tf.tensor3d(e.data as Float32Array, e.shape as [number, number, number]) });
      return tf.transpose(out, [0, 3, 1, 2]).dataSync() as Float32Array;
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    const want = io.output!.data as Float32Array;
    let maxAbs = 0;
    let mean = 0;
    for (let i = 0; i < want.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!)); mean += want[i]!; }
    mean /= want.length;
    const std = Math.sqrt(want.reduce((a, v) => a + (v - mean) ** 2, 0) / want.length);
    console.log(`wasm: max |ours - diffusers| = ${maxAbs.toExponential(3)}, relative ${(maxAbs / std).toExponential(3)}`);
    expect(maxAbs / std).toBeLessThan(1e-3);
  });
});
