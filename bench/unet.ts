/**
 * The reference U-Net of BENCHMARK.md ("mnist-ref", exactly 1,624,577
 * parameters) in plain tfjs ops, so the benchmark can run before (or
 * without) @tfjs-diffusion/models. train.ts uses the models package's
 * `unetPreset('mnist-ref')` when it exists and this one otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { dropout } from '../packages/regularizers/src/index.js';

export interface BenchModel {
  predict(x: tf.Tensor4D, t: tf.Tensor1D, labels: tf.Tensor1D, training: boolean, seed: number): tf.Tensor4D;
  variables(): tf.Variable[];
  numParameters(): number;
}

export function referenceUNet(seed = 0): BenchModel {
  const params = new Map<string, tf.Variable>();
  let s = seed;
  const v = (name: string, shape: number[], init: 'normal' | 'zeros' | 'ones' = 'normal') => {
    const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * shape[2]! : shape[0]!;
    const value = init === 'zeros' ? tf.zeros(shape) : init === 'ones' ? tf.ones(shape)
      : tf.randomNormal(shape, 0, Math.sqrt(1 / fanIn), 'float32', ++s);
    params.set(name, tf.variable(value, true, `${name}_${seed}`));
  };
  const p = (name: string) => params.get(name)!;

  const ch = [32, 64, 64];
  const emb = 128;
  const gnDef = (n: string, c: number) => { v(`${n}.gamma`, [c], 'ones'); v(`${n}.beta`, [c], 'zeros'); };
  const convDef = (n: string, k: number, ci: number, co: number) => { v(`${n}.kernel`, [k, k, ci, co]); v(`${n}.bias`, [co], 'zeros'); };
  const denseDef = (n: string, ci: number, co: number) => { v(`${n}.kernel`, [ci, co]); v(`${n}.bias`, [co], 'zeros'); };
  const resDef = (n: string, ci: number, co: number) => {
    gnDef(`${n}.norm1`, ci); convDef(`${n}.conv1`, 3, ci, co); denseDef(`${n}.emb`, emb, co);
    gnDef(`${n}.norm2`, co); convDef(`${n}.conv2`, 3, co, co);
    if (ci !== co) convDef(`${n}.skip`, 1, ci, co);
  };
  const attnDef = (n: string, c: number) => { gnDef(`${n}.norm`, c); convDef(`${n}.qkv`, 1, c, 3 * c); convDef(`${n}.out`, 1, c, c); };

  denseDef('temb.0', 32, emb); denseDef('temb.1', emb, emb); v('class_emb', [11, emb]);
  convDef('conv_in', 3, 1, ch[0]!);
  const skipCh: number[] = [ch[0]!];
  let c = ch[0]!;
  for (let l = 0; l < 3; l++) {
    for (let i = 0; i < 2; i++) {
      resDef(`down.${l}.res.${i}`, c, ch[l]!); c = ch[l]!;
      if (l === 2) attnDef(`down.${l}.attn.${i}`, c);
      skipCh.push(c);
    }
    if (l < 2) { convDef(`down.${l}.downsample`, 3, c, c); skipCh.push(c); }
  }
  resDef('mid.res.0', c, c); attnDef('mid.attn', c); resDef('mid.res.1', c, c);
  for (let l = 2; l >= 0; l--) {
    for (let i = 0; i < 3; i++) {
      resDef(`up.${l}.res.${i}`, c + skipCh.pop()!, ch[l]!); c = ch[l]!;
      if (l === 2) attnDef(`up.${l}.attn.${i}`, c);
    }
    if (l > 0) convDef(`up.${l}.upsample`, 3, c, c);
  }
  gnDef('norm_out', c); convDef('conv_out', 3, c, 1);

  const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
  const groupNorm = (n: string, x: tf.Tensor4D) => {
    const [b, h, w, cc] = x.shape;
    const g = tf.reshape(x, [b, h, w, 8, cc / 8]);
    const { mean, variance } = tf.moments(g, [1, 2, 4], true);
    const y = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, 1e-5))), x.shape);
    return tf.add(tf.mul(y, p(`${n}.gamma`)), p(`${n}.beta`)) as tf.Tensor4D;
  };
  const conv = (n: string, x: tf.Tensor4D, stride = 1) =>
    tf.add(tf.conv2d(x, p(`${n}.kernel`) as tf.Tensor4D, stride, 'same'), p(`${n}.bias`)) as tf.Tensor4D;
  const dense = (n: string, x: tf.Tensor2D) => tf.add(tf.matMul(x, p(`${n}.kernel`) as tf.Tensor2D), p(`${n}.bias`)) as tf.Tensor2D;
  const res = (n: string, x: tf.Tensor4D, e: tf.Tensor2D, training: boolean, seed: number) => {
    let h = conv(`${n}.conv1`, silu(groupNorm(`${n}.norm1`, x)) as tf.Tensor4D);
    const [b, , , co] = h.shape;
    h = tf.add(h, tf.reshape(dense(`${n}.emb`, e), [b, 1, 1, co]));
    let h2 = silu(groupNorm(`${n}.norm2`, h)) as tf.Tensor4D;
    if (training) h2 = dropout(h2, 0.1, seed);
    h = conv(`${n}.conv2`, h2);
    const skip = params.has(`${n}.skip.kernel`) ? conv(`${n}.skip`, x) : x;
    return tf.add(skip, h) as tf.Tensor4D;
  };
  const attn = (n: string, x: tf.Tensor4D) => {
    const [b, h, w, cc] = x.shape;
    const qkv = tf.reshape(conv(`${n}.qkv`, groupNorm(`${n}.norm`, x)), [b, h * w, 3 * cc]);
    const [q, k, vv] = tf.split(qkv, 3, 2);
    const a = tf.softmax(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(cc)));
    const o = conv(`${n}.out`, tf.reshape(tf.matMul(a, vv!), [b, h, w, cc]) as tf.Tensor4D);
    return tf.add(x, o) as tf.Tensor4D;
  };

  const predict = (x: tf.Tensor4D, t: tf.Tensor1D, labels: tf.Tensor1D, training: boolean, seed: number) => {
    let ds = seed;
    const freqs = tf.exp(tf.mul(tf.range(0, 16, 1, 'float32'), -Math.log(10000) / 16));
    const args = tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(freqs, [1, -1]));
    const tfeat = tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
    let e = dense('temb.1', silu(dense('temb.0', tfeat)) as tf.Tensor2D);
    e = tf.add(e, tf.gather(p('class_emb'), labels)) as tf.Tensor2D;
    const es = silu(e) as tf.Tensor2D;
    let h = conv('conv_in', x);
    const skips = [h];
    for (let l = 0; l < 3; l++) {
      for (let i = 0; i < 2; i++) {
        h = res(`down.${l}.res.${i}`, h, es, training, ++ds);
        if (l === 2) h = attn(`down.${l}.attn.${i}`, h);
        skips.push(h);
      }
      if (l < 2) { h = conv(`down.${l}.downsample`, h, 2); skips.push(h); }
    }
    h = res('mid.res.1', attn('mid.attn', res('mid.res.0', h, es, training, ++ds)), es, training, ++ds);
    for (let l = 2; l >= 0; l--) {
      for (let i = 0; i < 3; i++) {
        h = res(`up.${l}.res.${i}`, tf.concat([h, skips.pop()!], 3), es, training, ++ds);
        if (l === 2) h = attn(`up.${l}.attn.${i}`, h);
      }
      if (l > 0) {
        const [, hh, ww] = h.shape;
        h = conv(`up.${l}.upsample`, tf.image.resizeNearestNeighbor(h, [hh * 2, ww * 2]));
      }
    }
    return conv('conv_out', silu(groupNorm('norm_out', h)) as tf.Tensor4D);
  };

  return {
    predict,
    variables: () => [...params.values()],
    numParameters: () => [...params.values()].reduce((a, x) => a + x.size, 0),
  };
}
