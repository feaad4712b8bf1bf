import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors, diffusersTensors, encodeSafetensors, fromDiffusers, selectByEitherName, toDiffusers, UNet, unetPreset,
  type SafetensorsTensor, unetConfigFromDiffusers, unetParameterShapes,
} from './index.js';
import { conv, ParamStore, timestepFeatures } from './layers.js';

// In CI the repository is a clean clone with ../shared beside it.
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/diffusers-unet-tiny');
const config = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
const weightBytes = readFileSync(join(FIXTURE, 'diffusion_pytorch_model.safetensors'));
const io = decodeSafetensors(readFileSync(join(FIXTURE, 'io.safetensors'))).tensors;

const nchwToNhwc = (t: SafetensorsTensor) => tf.transpose(tf.tensor4d(t.data as Float32Array, t.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;

/** The model's output for the fixture's input, as NCHW numbers (diffusers' layout). */
function forward(model: UNet): Float32Array {
  return tf.tidy(() => {
    const x = nchwToNhwc(io.sample!);
    const t = tf.tensor1d(Array.from(io.timestep!.data as BigInt64Array, Number));
    return tf.transpose(model.predict(x, t), [0, 3, 1, 2]).dataSync() as Float32Array;
  });
}

function errors(got: Float32Array, want: Float32Array) {
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

describe('fromDiffusers on a checkpoint made by diffusers', () => {
  const models: UNet[] = [];
  const keep = (m: UNet) => (models.push(m), m);
  afterAll(() => models.forEach((m) => m.dispose()));

  it("gives diffusers' output for diffusers' input (within 1e-3 of its standard deviation)", () => {
    const model = keep(fromDiffusers(config, weightBytes));
    expect(model.numParameters()).toBe(702_499);
    const { maxAbs, std, relative } = errors(forward(model), io.output!.data as Float32Array);
    console.log(`diffusers-unet-tiny: max |ours - diffusers| = ${maxAbs.toExponential(3)}, output std ${std.toFixed(4)}, relative ${relative.toExponential(3)}`);
    expect(relative).toBeLessThan(1e-3);
  });

  it('takes the config as JSON text and the weights as an ArrayBuffer, as a browser has them', () => {
    const ab = weightBytes.buffer.slice(weightBytes.byteOffset, weightBytes.byteOffset + weightBytes.byteLength);
    const model = keep(fromDiffusers(JSON.stringify(config), ab as ArrayBuffer));
    expect(errors(forward(model), io.output!.data as Float32Array).relative).toBeLessThan(1e-3);
  });

  it('toDiffusers gives back the same tensor names, shapes and values, and the same config', () => {
    const model = keep(fromDiffusers(config, weightBytes));
    const out = toDiffusers(model);
    const theirs = decodeSafetensors(weightBytes).tensors;
    const ours = decodeSafetensors(out.weights).tensors;
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    for (const [name, t] of Object.entries(theirs)) {
      expect(ours[name]!.shape, name).toEqual(t.shape);
      expect(Buffer.from(ours[name]!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    }
    const { _diffusers_version: _v, ...want } = config;
    const { _diffusers_version: _w, ...got } = out.config;
    expect(got).toEqual(want);
  });

  it('diffusersTensors hands the weights on under our names without building a model', () => {
    const before = tf.memory().numTensors;
    const { config: cfg, tensors } = diffusersTensors(config, weightBytes, { predictionType: 'v' });
    expect(tf.memory().numTensors).toBe(before);
    expect(cfg).toMatchObject({ kind: 'unet', predictionType: 'v', downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D'], attentionHeadDim: 8, flipSinToCos: true });
    const model = keep(new UNet(cfg));
    expect(Object.keys(tensors)).toEqual(model.parameters().map((p) => p.name));
    // conv_in.weight [32, 3, 3, 3] (OIHW) → convIn.kernel [3, 3, 3, 32] (HWIO): the same number at [o, i, y, x] and [y, x, i, o].
    const w = decodeSafetensors(weightBytes).tensors['conv_in.weight']!.data as Float32Array;
    expect(tensors['convIn.kernel']!.shape).toEqual([3, 3, 3, 32]);
    expect(tensors['convIn.kernel']!.data[((2 * 3 + 1) * 3 + 1) * 32 + 5]).toBe(w[((5 * 3 + 1) * 3 + 2) * 3 + 1]);
  });

  it('loads the old attention names (query, key, value, proj_attn)', () => {
    const old: Record<string, SafetensorsTensor> = {};
    const rename: Record<string, string> = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' };
    let renamed = 0;
    for (const [name, t] of Object.entries(decodeSafetensors(weightBytes).tensors)) {
      const m = /^(.*\.attentions\.\d+)\.(to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/.exec(name);
      if (m) renamed++;
      old[m ? `${m[1]}.${rename[m[2]!]}.${m[3]}` : name] = t;
    }
    expect(renamed).toBe(4 * 8); // 1 down + 2 up + 1 mid attention blocks, 4 layers × weight and bias
    const model = keep(fromDiffusers(config, encodeSafetensors(old)));
    expect(errors(forward(model), io.output!.data as Float32Array).relative).toBeLessThan(1e-3);
    expect(Object.keys(decodeSafetensors(toDiffusers(model).weights).tensors).filter((n) => /query|proj_attn/.test(n))).toEqual([]);
  });

  it("reads the original DDPM CIFAR-10 config (diffusers 0.0.4 keys): the paper's 35.7 M parameters, counted without allocating", () => {
    const before = tf.memory().numTensors;
    const cfg = unetConfigFromDiffusers({
      _class_name: 'UNet2DModel', _diffusers_version: '0.0.4', act_fn: 'silu', block_out_channels: [128, 256, 256, 256], center_input_sample: false,
      down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'], downsample_padding: 0, flip_sin_to_cos: false, freq_shift: 1,
      in_channels: 3, layers_per_block: 2, mid_block_scale_factor: 1, norm_eps: 1e-6, norm_num_groups: 32, out_channels: 3, sample_size: 32,
      time_embedding_type: 'positional', up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
    });
    // Keys the config leaves out take UNet2DModel's defaults, as from_pretrained does (attention_head_dim 8).
    expect(cfg).toMatchObject({ freqShift: 1, flipSinToCos: false, downsamplePadding: 0, attentionHeadDim: 8, normEps: 1e-6, numClasses: null });
    expect(unetParameterShapes(cfg).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(35_746_307);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps add_attention, num_class_embeds, center_input_sample, scale_shift and attention_head_dim null', () => {
    const cfg = unetConfigFromDiffusers({
      ...config, add_attention: false, num_class_embeds: 5, center_input_sample: true, resnet_time_scale_shift: 'scale_shift', attention_head_dim: null,
    });
    expect(cfg).toMatchObject({ midBlockAttention: false, numClasses: 4, centerInputSample: true, resnetTimeScaleShift: 'scale_shift', attentionHeadDim: null, attentionHeads: 1 });
    const names = unetParameterShapes(cfg);
    expect(names.filter((p) => p.name.startsWith('mid.attn'))).toEqual([]);
    expect(names.find((p) => p.name === 'classEmbed.table')!.shape).toEqual([5, 128]);
    expect(names.find((p) => p.name === 'mid.res.0.emb.kernel')!.shape).toEqual([128, 128]); // 2 × 64: scale and shift
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['fourier time embedding', { time_embedding_type: 'fourier' }, /time_embedding_type = "fourier" is not supported; accepted: "positional"/],
    ['a cross-attention block', { down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'] }, /down_block_types\[1\] = "CrossAttnDownBlock2D"/],
    ['resnet downsampling', { downsample_type: 'resnet' }, /downsample_type = "resnet"/],
    ['a mid-block scale', { mid_block_scale_factor: 1.414 }, /mid_block_scale_factor = 1.414/],
    ['a timestep class embedding', { class_embed_type: 'timestep' }, /class_embed_type = "timestep"/],
    ['an unknown key', { cross_attention_dim: 768 }, /cross_attention_dim = 768 is not supported/],
    ['downsample padding 2', { downsample_padding: 2 }, /downsample_padding = 2/],
    ['another model class', { _class_name: 'UNet1DModel' }, /_class_name = "UNet1DModel" is not supported; accepted: 'UNet2DModel' or 'UNet2DConditionModel'/],
    ['no sample size', { sample_size: null }, /sample_size = null/],
    ['a head size that does not divide', { attention_head_dim: 48 }, /attention_head_dim = 48/],
  ])('refuses %s, naming the key and value', (_, change, message) => {
    const before = tf.memory().numTensors;
    expect(() => fromDiffusers({ ...config, ...change }, weightBytes)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses weights that do not fit, listing what is missing, unexpected or mis-shaped, and leaks nothing', () => {
    const t = decodeSafetensors(weightBytes).tensors;
    const { 'conv_out.bias': _dropped, ...rest } = t;
    const bad = { ...rest, extra: t['conv_in.bias']!, 'conv_in.weight': { ...t['conv_in.weight']!, shape: [32, 3, 9, 1] } };
    const before = tf.memory().numTensors;
    expect(() => fromDiffusers(config, encodeSafetensors(bad))).toThrow(/missing: conv_out\.bias; unexpected: extra; shape mismatch: conv_in\.weight \(file \[32,3,9,1\], expected \[32,3,3,3\]\)/);
    expect(() => fromDiffusers(config, new Uint8Array(5))).toThrow(/not a valid safetensors file/);
    expect(() => fromDiffusers(config, 'weights' as never)).toThrow(/weights must be the bytes/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('toDiffusers on our networks', () => {
  it('mnist-ref goes to diffusers and back with identical outputs', () => {
    const a = new UNet(unetPreset('mnist-ref', { predictionType: 'v' }), { seed: 3 });
    const { config: cfg, weights } = toDiffusers(a);
    expect(cfg).toMatchObject({
      block_out_channels: [32, 64, 64], down_block_types: ['DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D'],
      up_block_types: ['AttnUpBlock2D', 'UpBlock2D', 'UpBlock2D'], attention_head_dim: null, num_class_embeds: 11,
      flip_sin_to_cos: false, freq_shift: 0, downsample_padding: 0, sample_size: 28, in_channels: 1,
    });
    const b = fromDiffusers(cfg, weights, { predictionType: 'v' });
    expect(b.numParameters()).toBe(1_624_577);
    expect(b.prediction).toBe('v');
    const x = tf.randomNormal([1, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([900]);
    const cond = { classLabels: tf.tensor1d([3], 'int32') };
    const ya = a.predict(x, t, cond);
    const yb = b.predict(x, t, cond);
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, t, cond.classLabels, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('refuses a network diffusers cannot express, with the reason', () => {
    const tiny = new UNet(unetPreset('mnist-tiny'));
    expect(() => toDiffusers(tiny)).toThrow(/cannot express this network: timeFeatureDim is 32; .* block_out_channels\[0\] = 8/);
    tiny.dispose();
    const heads = new UNet({ sampleSize: 8, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4, attentionHeads: 2, attentionResolutions: [8] });
    expect(() => toDiffusers(heads)).toThrow(/head sizes 4, 8/);
    heads.dispose();
  });

  it('scale_shift, padding-1 downsampling, head size, centring and a time-embedding width survive the round trip', () => {
    const a = new UNet({
      sampleSize: [8, 12], inChannels: 2, outChannels: 3, blockOutChannels: [8, 16], layersPerBlock: 1, normNumGroups: 4,
      downBlockTypes: ['AttnDownBlock2D', 'DownBlock2D'], upBlockTypes: ['UpBlock2D', 'UpBlock2D'], attentionHeadDim: 4,
      resnetTimeScaleShift: 'scale_shift', downsamplePadding: 1, centerInputSample: true, flipSinToCos: true, freqShift: 1, embedDim: 24, numClasses: null,
    }, { seed: 2 });
    expect(a.selectParameters('mid.attn.norm.*')).toEqual([]); // as diffusers: no GroupNorm in the mid attention under scale_shift
    expect(a.selectParameters('down.0.res.0.emb.bias')[0]!.variable.shape).toEqual([16]);
    const { config: cfg, weights } = toDiffusers(a);
    expect(cfg).toMatchObject({ attention_head_dim: 4, time_embedding_dim: 24, resnet_time_scale_shift: 'scale_shift', sample_size: [8, 12] });
    const b = fromDiffusers(cfg, weights);
    const x = tf.randomNormal([1, 8, 12, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const t = tf.tensor1d([321]);
    const ya = a.predict(x, t);
    const yb = b.predict(x, t);
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, t, ya, yb]);
    a.dispose();
    b.dispose();
  });
});

describe('the pieces diffusers configures', () => {
  it("timestep features follow diffusers' get_timestep_embedding (flip_sin_to_cos, freq_shift)", () => {
    const t = [0, 7, 999];
    for (const [flipSinToCos, freqShift] of [[false, 0], [false, 1], [true, 0], [true, 1]] as const) {
      const got = tf.tidy(() => timestepFeatures(tf.tensor1d(t), 8, { flipSinToCos, freqShift }).arraySync());
      t.forEach((ti, r) => {
        const args = [0, 1, 2, 3].map((i) => ti * Math.exp((-Math.log(10000) * i) / (4 - freqShift)));
        const want = flipSinToCos ? [...args.map(Math.cos), ...args.map(Math.sin)] : [...args.map(Math.sin), ...args.map(Math.cos)];
        got[r]!.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
      });
    }
  });

  it('downsample padding 0 pads one row and column at the bottom and right, padding 1 one on every side', () => {
    // The U-Net's conv with a kernel that reads only its top-left tap: output (i, j) = input (2i − pad, 2j − pad).
    const probe = (pad: 'same' | 1) => {
      const p = new ParamStore(0);
      const w = new Float32Array(3 * 3 * 1 * 1);
      w[0] = 1;
      p.create('d.kernel', [3, 3, 1, 1], 'zeros').assign(tf.tensor4d(w, [3, 3, 1, 1]));
      p.create('d.bias', [1], 'zeros');
      const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
      const y = conv(p, 'd', x, 2, pad);
      const out = Array.from(y.dataSync());
      tf.dispose([x, y]);
      p.dispose();
      return out;
    };
    // x[r][c] = 4r + c + 1; padding 0: taps at (2i, 2j); padding 1: at (2i − 1, 2j − 1), zero outside.
    expect(probe('same')).toEqual([1, 3, 9, 11]);
    expect(probe(1)).toEqual([0, 0, 0, 6]);
  });

  it('freeze patterns work in our names and in diffusers names', () => {
    const m = fromDiffusers(config, weightBytes);
    expect(selectByEitherName(m, ['down.0.*'])).toEqual(selectByEitherName(m, ['down_blocks.0.*']));
    expect(selectByEitherName(m, ['conv_in.weight', 'time_embedding.*'])).toEqual(['timeEmbed.0.kernel', 'timeEmbed.0.bias', 'timeEmbed.1.kernel', 'timeEmbed.1.bias', 'convIn.kernel']);
    expect(selectByEitherName(m, ['mid_block.attentions.0.to_*'])).toEqual(['mid.attn.qkv.kernel', 'mid.attn.qkv.bias', 'mid.attn.out.kernel', 'mid.attn.out.bias']);
    expect(() => selectByEitherName(m, ['*.to_q.*'])).toThrow(/selects .*to_q.weight but not .*to_k.weight.*one tensor here/);
    expect(() => selectByEitherName(m, ['decoder.*'])).toThrow(/matches no parameter/);
    m.dispose();
  });
});
