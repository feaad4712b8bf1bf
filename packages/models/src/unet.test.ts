import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNet, unetPreset, type UNetOptions } from './index.js';

const small: UNetOptions = {
  sampleSize: 8, inChannels: 1, blockOutChannels: [8, 16], layersPerBlock: 1, attentionResolutions: [4],
  normNumGroups: 4, numClasses: 3, embedDim: 16,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('UNet', () => {
  const models: UNet[] = [];
  const make = (o: UNetOptions, seed = 0) => {
    const m = new UNet(o, { seed });
    models.push(m);
    return m;
  };
  afterAll(() => models.forEach((m) => m.dispose()));

  it('mnist-ref has exactly the 1,624,577 parameters of the benchmark network', () => {
    const m = make(unetPreset('mnist-ref'));
    expect(m.numParameters()).toBe(1_624_577);
    expect(m.selectParameters('down.0.res.0.conv1.*').map((p) => p.name)).toEqual(['down.0.res.0.conv1.kernel', 'down.0.res.0.conv1.bias']);
    expect(m.selectParameters(/attn/).length).toBe(6 * (2 + 3 + 1)); // norm γ β, qkv and out kernel + bias, per block × (2 down + 3 up + mid)
    expect(make(unetPreset('mnist-tiny')).numParameters()).toBe(77_049);
  });

  it.each<[string, UNetOptions, number[]]>([
    ['square, attention, classes', small, [2, 8, 8, 1]],
    ['non-square RGB, two heads', { ...small, sampleSize: [12, 8], inChannels: 3, attentionHeads: 2, attentionResolutions: [6], numClasses: null }, [3, 12, 8, 3]],
    ['three levels, no mid attention, v prediction', { ...small, sampleSize: 16, blockOutChannels: [4, 8, 8], normNumGroups: 4, midBlockAttention: false, attentionResolutions: [], predictionType: 'v' }, [1, 16, 16, 1]],
  ])('returns x-shaped output: %s', (_, cfg, shape) => {
    const m = make(cfg);
    const out = m.predict(tf.randomNormal(shape as [number, number, number, number], 0, 1, 'float32', 1) as tf.Tensor4D, tf.fill([shape[0]!], 10) as tf.Tensor1D);
    expect(out.shape).toEqual(shape.slice(0, 3).concat(cfg.outChannels ?? cfg.inChannels ?? 1));
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    out.dispose();
  });

  it('rejects sizes it cannot halve, with the rule in the message', () => {
    expect(() => new UNet({ ...small, sampleSize: 28, blockOutChannels: [8, 8, 8, 8] })).toThrow(/multiples of 8/);
    const m = make(small);
    expect(() => m.predict(tf.zeros([1, 9, 9, 1]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D)).toThrow(/multiples of 2/);
    expect(() => m.predict(tf.zeros([1, 8, 8, 2]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D)).toThrow(/inChannels = 1/);
    expect(() => m.predict(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, tf.zeros([3]) as tf.Tensor1D)).toThrow(/t must be a 1-D tensor of 2/);
    expect(() => new UNet({ ...small, predictionType: 'x0' as never })).toThrow(/'epsilon', 'v', 'sample'/);
    expect(() => new UNet({ ...small, attentionResolutions: [3] })).toThrow(/heights are 8, 4/);
    expect(() => unetPreset('big' as never)).toThrow(/'mnist-ref', 'mnist-tiny'/);
  });

  it('refuses condition fields it cannot read, naming what is missing', () => {
    const m = make(small);
    const unconditional = make({ ...small, numClasses: null });
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const t = tf.zeros([2]) as tf.Tensor1D;
    const text = tf.zeros([2, 4, 16]) as tf.Tensor3D;
    const labels = tf.tensor1d([0, 1], 'int32');
    const one = tf.tensor1d([0], 'int32');
    expect(() => m.predict(x, t, { encoderHiddenStates: text })).toThrow(/UNet.predict: cond.encoderHiddenStates given, but the model has no cross-attention block/);
    expect(() => unconditional.predict(x, t, { classLabels: labels })).toThrow(/cond.classLabels given, but the model has no class embedding/);
    expect(() => m.predict(x, t, { classLabels: one })).toThrow(/cond.classLabels must be a 1-D tensor \[batch\] class ids with 2 rows/);
    tf.dispose([x, t, text, labels, one]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients reach every trainable parameter', () => {
    const m = make(small);
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const t = tf.tensor1d([3, 700]);
    const labels = tf.tensor1d([0, 3], 'int32');
    const { value, grads } = tf.variableGrads(() =>
      tf.mean(tf.square(tf.sub(m.predict(x, t, { classLabels: labels }), x))) as tf.Scalar,
    m.parameters().map((p) => p.variable));
    const byVar = new Map(m.parameters().map((p) => [p.variable.name, p.name]));
    const zero = Object.entries(grads).filter(([, g]) => tf.max(tf.abs(g)).dataSync()[0] === 0).map(([k]) => byVar.get(k));
    expect(zero).toEqual([]);
    expect(Object.keys(grads).length).toBe(m.parameters().length);
    tf.dispose([value, x, t, labels, ...Object.values(grads)]);
  });

  it('dropout acts only when training, with masks from the seed', () => {
    const m = make({ ...small, dropout: 0.5 });
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const t = tf.tensor1d([5, 5]);
    const run = (o: object) => m.predict(x, t, undefined, o).dataSync();
    expect(run({})).toEqual(run({ training: false, seed: 9 }));
    expect(run({ training: true, seed: 1 })).toEqual(run({ training: true, seed: 1 }));
    expect(run({ training: true, seed: 1 })).not.toEqual(run({ training: true, seed: 2 }));
    expect(run({ training: true, seed: 1 })).not.toEqual(run({}));
    expect(run({ training: true, seed: 1, dropoutRate: 0 })).toEqual(run({}));
    tf.dispose([x, t]);
  });

  it('the class embedding changes the output; no labels means the null class', () => {
    const m = make(small);
    const x = tf.randomNormal([1, 8, 8, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const t = tf.tensor1d([100]);
    const out = (c?: number) => m.predict(x, t, c === undefined ? undefined : { classLabels: tf.tensor1d([c], 'int32') }).dataSync();
    expect(out(0)).not.toEqual(out(1));
    expect(out()).toEqual(out(3));
    tf.dispose([x, t]);
  });

  it('timeConditioning: false ignores t; otherwise t matters', () => {
    const x = tf.randomNormal([1, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const at = (m: UNet, t: number) => m.predict(x, tf.tensor1d([t])).dataSync();
    const blind = make({ ...small, timeConditioning: false });
    expect(blind.selectParameters('timeEmbed.*')).toEqual([]);
    expect(at(blind, 10)).toEqual(at(blind, 900));
    const seeing = make(small);
    expect(at(seeing, 10)).not.toEqual(at(seeing, 900));
    x.dispose();
  });

  it('the same seed gives the same weights, another seed others', () => {
    const a = make(small, 7);
    const b = make(small, 7);
    const c = make(small, 8);
    const w = (m: UNet) => Array.from(m.parameters()[0]!.variable.dataSync());
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
  });

  it('leaks no tensors per call', () => {
    const m = make({ ...small, dropout: 0.2 });
    const x = tf.randomNormal([2, 8, 8, 1]) as tf.Tensor4D;
    const t = tf.tensor1d([1, 2]);
    tf.dispose(m.predict(x, t, undefined, { training: true, seed: 1 }));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(m.predict(x, t, undefined, { training: i % 2 === 0, seed: i }));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t]);
  });
});
