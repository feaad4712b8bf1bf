import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors, diffusersNames, encodeSafetensors, fromDiffusers, isDiffusersUNetConfig, type SafetensorsTensor, selectByEitherName, toDiffusers, UNet,
  unetConfigFromDiffusers,
} from './index.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/diffusers-unet2dcondition-tiny');
const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
const weightBytes = readFileSync(join(FIXTURE, 'diffusion_pytorch_model.safetensors'));
const io = decodeSafetensors(readFileSync(join(FIXTURE, 'io.safetensors'))).tensors;

const nchwToNhwc = (t: SafetensorsTensor) => tf.transpose(tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
const theirs = decodeSafetensors(weightBytes).tensors;
const want = io.output!.data as Float32Array;

/** The fixture's weights changed by `edit` (a name → tensor map), as safetensors bytes. */
function weightsWith(edit: (t: Record<string, SafetensorsTensor>) => void): Uint8Array {
  const t = { ...theirs };
  edit(t);
  return encodeSafetensors(t);
}
const f32 = (shape: number[], fill = 0): SafetensorsTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });

const states = () => tf.tensor3d(io.encoder_hidden_states!.data as Float32Array, io.encoder_hidden_states!.shape as [number, number, number]);

/** The model's output for the fixture's input, as NCHW numbers (diffusers' layout). */
function forward(model: UNet, cond: { classLabels?: tf.Tensor1D } = {}): Float32Array {
  return tf.tidy(() => {
    const x = nchwToNhwc(io.sample!);
    const t = tf.tensor1d(Array.from(io.timestep!.data as BigInt64Array, Number));
    return tf.transpose(model.predict(x, t, { ...cond, encoderHiddenStates: states() }), [0, 3, 1, 2]).dataSync() as Float32Array;
  });
}

function relativeError(got: Float32Array, want: Float32Array) {
  let maxAbs = 0;
  let mean = 0;
  for (let i = 0; i < want.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!)); mean += want[i]!; }
  mean /= want.length;
  const std = Math.sqrt(want.reduce((s, v) => s + (v - mean) ** 2, 0) / want.length);
  return { maxAbs, std, relative: maxAbs / std };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('fromDiffusers on a UNet2DConditionModel made by diffusers', () => {
  const models: UNet[] = [];
  const keep = (m: UNet) => (models.push(m), m);
  afterAll(() => models.forEach((m) => m.dispose()));

  it("gives diffusers' output for diffusers' input and text states (within 1e-3 of its standard deviation)", () => {
    const model = keep(fromDiffusers(config, weightBytes));
    expect(model.numParameters()).toBe(792_387);
    const { maxAbs, std, relative } = relativeError(forward(model), io.output!.data as Float32Array);
    console.log(`diffusers-unet2dcondition-tiny: max |ours - diffusers| = ${maxAbs.toExponential(3)}, output std ${std.toFixed(4)}, relative ${relative.toExponential(3)}`);
    expect(relative).toBeLessThan(1e-3);
  });

  it('takes the config as JSON text and the weights as an ArrayBuffer, as a browser has them', () => {
    const ab = weightBytes.buffer.slice(weightBytes.byteOffset, weightBytes.byteOffset + weightBytes.byteLength);
    const model = keep(fromDiffusers(JSON.stringify(config), ab as ArrayBuffer));
    expect(relativeError(forward(model), want).relative).toBeLessThan(1e-3);
  });

  it("toDiffusers writes exactly the fixture's tensor names, shapes and values, and its config", () => {
    const model = keep(fromDiffusers(config, weightBytes));
    const out = toDiffusers(model);
    const ours = decodeSafetensors(out.weights).tensors;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    for (const [name, t] of Object.entries(theirs)) {
      expect(ours[name]!.shape, name).toEqual(t.shape);
      expect(Buffer.from(ours[name]!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    }
    const { _diffusers_version: _v, ...wantConfig } = config;
    const { _diffusers_version: _w, ...got } = out.config;
    expect(got).toEqual(wantConfig);
    expect(unetConfigFromDiffusers(out.config)).toEqual(model.config);
  });

  it('refuses a call without encoderHiddenStates, or with rows of another width, and leaks nothing', () => {
    const model = keep(fromDiffusers(config, weightBytes));
    const x = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    const t = tf.tensor1d([10]);
    const wide = tf.zeros([1, 7, 16]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    expect(() => model.predict(x, t)).toThrow(/UNet.predict: the model has cross-attention blocks; pass cond.encoderHiddenStates \[batch, length, 32\]/);
    expect(() => model.predict(x, t, { encoderHiddenStates: wide })).toThrow(/crossAttentionDim = 32 values; got shape \[1,7,16\]/);
    expect(() => model.predict(x, t, { classLabels: tf.tensor1d([0], 'int32') })).toThrow(/cond.classLabels given, but the model has no class embedding/);
    expect(tf.memory().numTensors).toBe(before + 1); // the labels made inside the expect
    tf.dispose([x, t, wide]);
  });

  it.each([
    ['addition_embed_type', 'text', /addition_embed_type = "text" is not supported; accepted: null/],
    ['time_cond_proj_dim', 8, /time_cond_proj_dim = 8 is not supported; accepted: null/],
    ['dual_cross_attention', true, /dual_cross_attention = true is not supported; accepted: false/],
    ['class_embed_type', 'timestep', /class_embed_type = "timestep" is not supported; accepted: null/],
    ['encoder_hid_dim', 16, /encoder_hid_dim = 16 is not supported/],
    ['mid_block_type', 'UNetMidBlock2DSimpleCrossAttn', /mid_block_type = "UNetMidBlock2DSimpleCrossAttn" is not supported; accepted: "UNetMidBlock2DCrossAttn"/],
    ['down_block_types', ['AttnDownBlock2D', 'DownBlock2D'], /down_block_types\[0\] = "AttnDownBlock2D" is not supported; accepted: 'DownBlock2D' or 'CrossAttnDownBlock2D'/],
    ['cross_attention_dim', [32, 16], /cross_attention_dim = \[32, 16\] is not supported; accepted: a positive integer/],
    ['crossattention_dim', 32, /crossattention_dim = 32 is not supported; accepted: the keys of UNet2DConditionModel/],
  ])('refuses %s = %j, naming the key', (key, value, message) => {
    const before = tf.memory().numTensors;
    expect(() => fromDiffusers({ ...config, [key]: value }, weightBytes)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('use_linear_projection: proj_in/proj_out as Linear layers give the same network as the 1×1 convs', () => {
    const lin = weightsWith((t) => {
      for (const [k, v] of Object.entries(t)) if (/proj_(in|out)\.weight$/.test(k)) t[k] = { ...v, shape: v.shape.slice(0, 2) };
    });
    const model = keep(fromDiffusers({ ...config, use_linear_projection: true }, lin));
    expect(model.parameters().find((p) => p.name === 'mid.transformer.projIn.kernel')!.variable.shape).toEqual([64, 64]);
    expect(relativeError(forward(model), want).relative).toBeLessThan(1e-5);
    expect(Object.keys(decodeSafetensors(toDiffusers(model).weights).tensors).sort()).toEqual(Object.keys(theirs).sort());
  });

  it('transformer_layers_per_block 2 reads transformer_blocks.1 (here a block whose outputs are zero, so the output stays)', () => {
    const cfg = { ...config, transformer_layers_per_block: 2 };
    expect(() => fromDiffusers(cfg, weightBytes)).toThrow(/missing: .*attentions\.0\.transformer_blocks\.1\.norm1\.weight/);
    const two = weightsWith((t) => {
      for (const [k, v] of Object.entries(theirs)) {
        const m = /^(.*\.transformer_blocks\.)0\.(.*)$/.exec(k);
        if (!m) continue;
        const zero = /(to_out\.0|ff\.net\.2)\.(weight|bias)$/.test(m[2]!);
        t[`${m[1]}1.${m[2]}`] = zero ? f32(v.shape) : v;
      }
    });
    const model = keep(fromDiffusers(cfg, two));
    expect(relativeError(forward(model), want).relative).toBeLessThan(1e-5);
  });

  it('attention_head_dim as a list per block and num_attention_heads give the same heads', () => {
    for (const change of [{ attention_head_dim: [8, 8] }, { attention_head_dim: 3, num_attention_heads: 8 }]) {
      const model = keep(fromDiffusers({ ...config, ...change }, weightBytes));
      expect(relativeError(forward(model), want).relative).toBeLessThan(1e-5);
    }
  });

  it('num_class_embeds: class labels beside the text, added to the time embedding', () => {
    const cfg = { ...config, num_class_embeds: 3 };
    const table = f32([3, 128]);
    (table.data as Float32Array).fill(0.5, 128, 256); // class 1 moves the embedding; class 0 adds nothing
    const model = keep(fromDiffusers(cfg, weightsWith((t) => { t['class_embedding.weight'] = table; })));
    expect(model.numClasses).toBe(2);
    expect(relativeError(forward(model, { classLabels: tf.tensor1d([0, 0, 0], 'int32') }), want).relative).toBeLessThan(1e-5);
    expect(relativeError(forward(model, { classLabels: tf.tensor1d([1, 1, 1], 'int32') }), want).relative).toBeGreaterThan(1e-2);
    expect(toDiffusers(model).config.num_class_embeds).toBe(3);
  });

  it("names each transformer tensor as diffusers does, so freeze patterns work in either naming", () => {
    expect(isDiffusersUNetConfig(config)).toBe(true);
    const model = keep(new UNet(unetConfigFromDiffusers(config)));
    const names = diffusersNames(model);
    expect(names.get('up.0.transformer.1.blocks.0.attn2.k.kernel')).toEqual(['up_blocks.1.attentions.1.transformer_blocks.0.attn2.to_k.weight']);
    expect(names.get('mid.transformer.blocks.0.ff.out.bias')).toEqual(['mid_block.attentions.0.transformer_blocks.0.ff.net.2.bias']);
    expect(new Set([...names.values()].flat())).toEqual(new Set(Object.keys(theirs)));
    const cross = selectByEitherName(model, ['*.attn2.to_k.*', '*.attn2.to_v.*']);
    expect(cross).toHaveLength(8); // 4 transformers (down 0, mid, two in up 0) × to_k, to_v (no biases)
    expect(selectByEitherName(model, ['*.attn2.k.*', '*.attn2.v.*'])).toEqual(cross);
  });

  it('our own network with per-level heads, linear projections, two transformer layers and classes goes to diffusers and back unchanged', () => {
    const ours = keep(new UNet({
      sampleSize: 8, inChannels: 2, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4, numClasses: 3, flipSinToCos: true, downsamplePadding: 1,
      downBlockTypes: ['CrossAttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'CrossAttnUpBlock2D'], midBlockType: 'UNetMidBlock2DCrossAttn',
      crossAttentionDim: 12, attentionHeads: [2, 4], useLinearProjection: true, transformerLayersPerBlock: [2, 1], onlyCrossAttention: [true, false],
    }, { seed: 5 }));
    const { config: cfg, weights } = toDiffusers(ours);
    expect(cfg).toMatchObject({ _class_name: 'UNet2DConditionModel', attention_head_dim: [2, 4], transformer_layers_per_block: [2, 1], num_class_embeds: 4, use_linear_projection: true });
    const back = keep(fromDiffusers(JSON.stringify(cfg), weights));
    const run = (m: UNet) => tf.tidy(() => m.predict(tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 1) as tf.Tensor4D, tf.tensor1d([3, 700]), {
      encoderHiddenStates: tf.randomNormal([2, 5, 12], 0, 1, 'float32', 2) as tf.Tensor3D, classLabels: tf.tensor1d([2, 0], 'int32'),
    }).dataSync());
    expect(Array.from(run(back))).toEqual(Array.from(run(ours)));
    expect(back.config).toEqual(ours.config);
  });

  it('only_cross_attention: attn1 reads the text states (its to_k and to_v are cross_attention_dim wide)', () => {
    const cfg = { ...config, only_cross_attention: [true, false], block_out_channels: [32, 64], cross_attention_dim: 16 };
    const { tensors } = { tensors: Object.fromEntries(toDiffuserShapes(cfg)) };
    expect(tensors['down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.weight']).toEqual([32, 16]);
    expect(tensors['up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k.weight']).toEqual([32, 16]);
    expect(tensors['mid_block.attentions.0.transformer_blocks.0.attn1.to_k.weight']).toEqual([64, 64]);
    expect(tensors['mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight']).toEqual([64, 16]);
  });
});

/** diffusers' tensor names and shapes of a config's network, from toDiffusers of a fresh model. */
function toDiffuserShapes(cfg: Record<string, unknown>): [string, number[]][] {
  const model = new UNet(unetConfigFromDiffusers(cfg));
  try {
    return Object.entries(decodeSafetensors(toDiffusers(model).weights).tensors).map(([k, v]) => [k, v.shape]);
  } finally {
    model.dispose();
  }
}
