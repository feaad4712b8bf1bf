import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addLora, decodeSafetensors, encodeLora, loadLora, toDiffusers, UNet, type SafetensorsTensor, type UNetOptions } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CFG: UNetOptions = {
  sampleSize: 8, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4,
  downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'], midBlockType: 'UNetMidBlock2DCrossAttn',
  crossAttentionDim: 12, attentionHeads: 2,
};
const run = (m: UNet) => tf.tidy(() => m.predict(tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D, tf.tensor1d([3, 700]), {
  encoderHiddenStates: tf.randomNormal([2, 5, 12], 0, 1, 'float32', 2) as tf.Tensor3D,
}).dataSync());
const weights = (m: UNet) => decodeSafetensors(toDiffusers(m).weights).tensors;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => Math.max(s, Math.abs(v - Number(b[i]))), 0);

describe('LoRA on the text-conditioned U-Net', () => {
  it("targets self- and cross-attention's projections under diffusers' names; a file's B·A lands on diffusers' to_k of the text states", () => {
    const m = new UNet(CFG, { seed: 3 });
    const base = weights(m);
    const before = run(m);
    const n0 = tf.memory().numTensors;
    const a = addLora(m, { rank: 2, alpha: 4 });
    const k2 = a.pairs.find((p) => p.module.name === 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k')!;
    expect(k2.module).toMatchObject({ kind: 'linear', layerKind: 'dense', inFeatures: 12, outFeatures: 8 });
    expect(a.pairs.some((p) => p.module.name === 'mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0')).toBe(true);
    expect(Array.from(run(m))).toEqual(Array.from(before));
    a.pairs.forEach((p, i) => tf.tidy(() => p.B.assign(tf.randomNormal(p.B.shape, 0, 0.5, 'float32', i))));
    const adapted = run(m);
    expect(maxDiff(adapted, before)).toBeGreaterThan(1e-3);
    const file = decodeSafetensors(encodeLora(a)).tensors;
    a.merge();
    expect(maxDiff(run(m), adapted)).toBeLessThan(1e-5);
    const merged = weights(m);
    const name = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k';
    const A = file[`unet.${name}.lora_A.weight`]!;
    const B = file[`unet.${name}.lora_B.weight`]!;
    expect([A.shape, B.shape]).toEqual([[2, 12], [8, 2]]);
    const at = (t: SafetensorsTensor, i: number) => Number(t.data[i]);
    const want = Array.from({ length: 8 * 12 }, (_, j) => {
      const [o, i] = [Math.floor(j / 12), j % 12];
      return at(base[`${name}.weight`]!, j) + 2 * (at(B, o * 2) * at(A, i) + at(B, o * 2 + 1) * at(A, 12 + i));
    });
    expect(maxDiff(merged[`${name}.weight`]!.data as Float32Array, want)).toBeLessThan(1e-6);
    a.unmerge();
    expect(Array.from(weights(m)[`${name}.weight`]!.data as Float32Array)).toEqual(Array.from(base[`${name}.weight`]!.data as Float32Array));
    const fresh = new UNet(CFG, { seed: 3 });
    const b = loadLora(fresh, encodeLora(a));
    expect(Array.from(run(fresh))).toEqual(Array.from(adapted));
    b.remove();
    fresh.dispose();
    a.remove();
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });
});
