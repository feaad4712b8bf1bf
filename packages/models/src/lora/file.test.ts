import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { addLora, decodeSafetensors, encodeLora, encodeSafetensors, loadLora, toDiffusers, UNet, type SafetensorsTensor } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CFG = { sampleSize: 8, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4, attentionResolutions: [4] };
const run = (m: UNet) => tf.tidy(() => m.predict(tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D, tf.tensor1d([10, 700], 'int32')).dataSync());
const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
const rand = (n: number, seed: number) => tf.tidy(() => tf.randomNormal([n], 0, 0.3, 'float32', seed).dataSync() as Float32Array);
const f32 = (shape: number[], seed: number): SafetensorsTensor => ({ dtype: 'F32', shape, data: rand(shape.reduce((a, b) => a * b, 1), seed) });
const diffusersWeights = (m: UNet) => decodeSafetensors(toDiffusers(m).weights).tensors;

describe('diffusers LoRA files', () => {
  it('writes PEFT keys under unet. in PyTorch layouts with the LoraConfig as metadata, and reads them back bit for bit', () => {
    const m = new UNet(CFG, { seed: 1 });
    const a = addLora(m, { rank: 3, alpha: 6, dropout: 0.1, targets: ['to_q', 'to_v', 'to_out.0', 'conv1', 'time_emb_proj'] });
    a.pairs.forEach((p, i) => tf.tidy(() => p.B.assign(tf.randomNormal(p.B.shape, 0, 0.5, 'float32', i))));
    const bytes = encodeLora(a);
    const file = decodeSafetensors(bytes);
    expect(file.tensors['unet.mid_block.attentions.0.to_q.lora_A.weight']!.shape).toEqual([3, 16]);
    expect(file.tensors['unet.mid_block.attentions.0.to_q.lora_B.weight']!.shape).toEqual([16, 3]);
    expect(file.tensors['unet.down_blocks.0.resnets.0.conv1.lora_A.weight']!.shape).toEqual([3, 8, 3, 3]);
    expect(file.tensors['unet.down_blocks.0.resnets.0.conv1.lora_B.weight']!.shape).toEqual([8, 3, 1, 1]);
    expect(file.tensors['unet.down_blocks.0.resnets.0.time_emb_proj.lora_A.weight']!.shape).toEqual([3, 32]);
    const meta = JSON.parse(file.metadata.lora_adapter_metadata!);
    expect(meta).toMatchObject({ 'unet.r': 3, 'unet.lora_alpha': 6, 'unet.lora_dropout': 0.1, 'unet.use_dora': false, 'unet.rank_pattern': {}, 'unet.alpha_pattern': {} });
    expect(meta['unet.target_modules']).toContain('up_blocks.0.attentions.1.to_v');
    expect(file.metadata.format).toBe('pt');
    const want = run(m);
    const fresh = new UNet(CFG, { seed: 1 });
    const b = loadLora(fresh, bytes, { name: 'style' });
    expect(b.info).toEqual({ ...a.info });
    a.pairs.forEach((p, i) => {
      expect(sameBits(b.pairs[i]!.A.dataSync(), p.A.dataSync())).toBe(true);
      expect(sameBits(b.pairs[i]!.B.dataSync(), p.B.dataSync())).toBe(true);
    });
    expect(sameBits(run(fresh), want)).toBe(true);
    [m, fresh].forEach((q) => q.dispose());
  });

  it('a file written in diffusers layout changes diffusers weights by (alpha/r)·B·A: Linear and conv, PEFT metadata and old lora.down/up with .alpha', () => {
    const m = new UNet(CFG, { seed: 2 });
    const base = diffusersWeights(m);
    const r = 4;
    const q = { A: f32([r, 16], 1), B: f32([16, r], 2) };
    const c = { A: f32([r, 8, 3, 3], 3), B: f32([8, r, 1, 1], 4) };
    const k = { A: f32([r, 16], 5), B: f32([16, r], 6) };
    const check = (got: Record<string, SafetensorsTensor>, name: string, ab: { A: SafetensorsTensor; B: SafetensorsTensor }, scale: number) => {
      const W = base[`${name}.weight`]!;
      const [out, inner] = [W.shape[0]!, W.data.length / W.shape[0]!]; // [out, in·kh·kw]
      const maxErr = Array.from({ length: out * inner }, (_, j) => {
        const [o, i] = [Math.floor(j / inner), j % inner];
        let s = 0;
        for (let t = 0; t < r; t++) s += (ab.B.data[o * r + t] as number) * (ab.A.data[t * inner + i] as number);
        return Math.abs((got[`${name}.weight`]!.data[j] as number) - ((W.data[j] as number) + scale * s));
      }).reduce((a, b) => Math.max(a, b));
      expect(maxErr).toBeLessThan(1e-6);
    };
    const peft = encodeSafetensors({
      'unet.mid_block.attentions.0.to_q.lora_A.weight': q.A, 'unet.mid_block.attentions.0.to_q.lora_B.weight': q.B,
      'unet.down_blocks.0.resnets.0.conv1.lora_A.weight': c.A, 'unet.down_blocks.0.resnets.0.conv1.lora_B.weight': c.B,
    }, { format: 'pt', lora_adapter_metadata: JSON.stringify({ 'unet.r': r, 'unet.lora_alpha': 8, 'unet.alpha_pattern': { 'down_blocks.0.resnets.0.conv1': 2 } }) });
    const a = loadLora(m, peft);
    a.merge();
    const merged = diffusersWeights(m);
    check(merged, 'mid_block.attentions.0.to_q', q, 8 / r);
    check(merged, 'down_blocks.0.resnets.0.conv1', c, 2 / r);
    a.remove();
    // Older files: no prefix, lora.down / lora.up or the attention processors' to_k_lora, kohya-style alphas.
    const old = encodeSafetensors({
      'mid_block.attentions.0.to_q.lora.down.weight': q.A, 'mid_block.attentions.0.to_q.lora.up.weight': q.B,
      'mid_block.attentions.0.to_q.alpha': { dtype: 'F32', shape: [], data: new Float32Array([1]) },
      'mid_block.attentions.0.processor.to_k_lora.down.weight': k.A, 'mid_block.attentions.0.processor.to_k_lora.up.weight': k.B,
    });
    const b = loadLora(m, old, { weight: 0.5 });
    b.merge();
    const merged2 = diffusersWeights(m);
    check(merged2, 'mid_block.attentions.0.to_q', q, 0.5 * (1 / r));
    check(merged2, 'mid_block.attentions.0.to_k', k, 0.5 * 1);
    b.remove();
    expect(sameBits(diffusersWeights(m)['mid_block.attentions.0.to_q.weight']!.data as Float32Array, base['mid_block.attentions.0.to_q.weight']!.data as Float32Array)).toBe(true);
    m.dispose();
  });

  it('refuses a bad file with an error naming the key, allocating nothing', () => {
    const m = new UNet(CFG);
    const n0 = tf.memory().numTensors;
    const A = 'unet.mid_block.attentions.0.to_q.lora_A.weight';
    const B = 'unet.mid_block.attentions.0.to_q.lora_B.weight';
    const load = (t: Record<string, SafetensorsTensor>, meta?: Record<string, string>) => () => loadLora(m, encodeSafetensors(t, meta), { source: 'x.safetensors' });
    expect(load({ [A]: f32([2, 15], 1), [B]: f32([16, 2], 2) })).toThrow(`loadLora (x.safetensors): key '${A}' has shape [2,15]; module 'mid_block.attentions.0.to_q' (linear, 16 → 16) takes [2,16]`);
    expect(load({ [A]: f32([2, 16], 1), [B]: f32([16, 3], 2) })).toThrow(`key '${B}' has shape [16,3]; its second dimension must be the rank 2`);
    expect(load({ [A]: f32([0, 16], 1), [B]: f32([16, 0], 2) })).toThrow(`key '${A}' has rank 0`);
    expect(load({ [A]: f32([2, 16], 1) })).toThrow(`key '${A}': module 'mid_block.attentions.0.to_q' has lora_A (down) but no lora_B (up) weight`);
    const gone = 'unet.down_blocks.0.attentions.0.to_q.lora_A.weight';
    expect(load({ [gone]: f32([2, 8], 1), [gone.replace('lora_A', 'lora_B')]: f32([8, 2], 2) })).toThrow(`key '${gone}': this model has no layer 'down_blocks.0.attentions.0.to_q' (base parameter 'down_blocks.0.attentions.0.to_q.weight' missing)`);
    expect(load({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2), 'text_encoder.x.lora_A.weight': f32([2, 2], 3) })).toThrow(`key 'text_encoder.x.lora_A.weight' is not under 'unet.'`);
    expect(load({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2), 'unet.mid_block.attentions.0.to_q.lora_magnitude_vector': f32([16], 3) })).toThrow(/DoRA/);
    expect(load({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2), 'unet.mid_block.weird': f32([2], 3) })).toThrow(`key 'unet.mid_block.weird' is no LoRA tensor`);
    expect(load({ [A]: { dtype: 'F32', shape: [2, 16], data: new Float32Array(32).fill(NaN) }, [B]: f32([16, 2], 2) })).toThrow(`key '${A}' holds NaN or Inf`);
    expect(load({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2) }, { lora_adapter_metadata: '{"unet.use_dora": true}' })).toThrow(/'unet.use_dora' is true/);
    expect(() => loadLora(m, new Uint8Array([1, 2, 3]))).toThrow(/loadLora/);
    expect(() => loadLora(m, encodeSafetensors({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2) }), { weigth: 2 } as never)).toThrow(/did you mean 'weight'/);
    expect(tf.memory().numTensors).toBe(n0);
    const ok = loadLora(m, encodeSafetensors({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2) }));
    expect(() => loadLora(m, encodeSafetensors({ [A]: f32([2, 16], 1), [B]: f32([16, 2], 2) }))).toThrow(/already has an adapter named 'default'/);
    ok.remove();
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });
});
