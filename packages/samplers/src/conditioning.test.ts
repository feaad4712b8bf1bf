import * as tf from '@tensorflow/tfjs';
import { makeSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkConditioning,
  concatConditioning,
  conditioningFromHost,
  conditioningToHost,
  conditioningToHostSync,
  disposeConditioning,
  dropConditioning,
  gatherConditioning,
  nullConditioning,
  sliceConditioning,
  sliceHostConditioning,
  type Conditioning,
} from './conditioning.js';
import { ddim } from './ddim.js';
import { ensemble } from './ensemble.js';
import { classifierFreeGuidance } from './guidance.js';
import { sample } from './sample.js';
import type { Denoiser } from './types.js';

const L = 2;
const D = 3;
// Reads a class and a text field: f(x, c, e) = x (1 + c) + Σ e (per row); records every cond it is given.
function textToy(seen: Conditioning[] = []): Denoiser {
  return {
    prediction: 'epsilon',
    numClasses: 4,
    predict(x, _t, cond) {
      seen.push({ classLabels: cond?.classLabels && tf.keep(tf.clone(cond.classLabels)), encoderHiddenStates: cond?.encoderHiddenStates && tf.keep(tf.clone(cond.encoderHiddenStates)) });
      return tf.tidy(() => {
        const b = x.shape[0];
        const c = cond?.classLabels ? tf.cast(cond.classLabels, 'float32') : tf.fill([b], 4);
        const e = cond?.encoderHiddenStates ? tf.sum(cond.encoderHiddenStates, [1, 2]) : tf.zeros([b]);
        return tf.add(tf.mul(x, tf.reshape(tf.add(c, 1), [b, 1, 1, 1])), tf.reshape(e, [b, 1, 1, 1])) as tf.Tensor4D;
      });
    },
  };
}

const values = (t: tf.Tensor | undefined) => Array.from(t!.dataSync());
const ehs = (rows: number[][]) => tf.tensor3d(rows.flatMap((r) => r), [rows.length, L, D]);
const prompt = (k: number) => Array.from({ length: L * D }, (_, i) => k + i / 10);

describe('the Conditioning toolkit', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('concatenates, slices and gathers every field by rows', () => {
    const before = tf.memory().numTensors;
    const a: Conditioning = { classLabels: tf.tensor1d([1, 2], 'int32'), encoderHiddenStates: ehs([prompt(1), prompt(2)]) };
    const b: Conditioning = { classLabels: tf.tensor1d([3], 'int32'), encoderHiddenStates: ehs([prompt(3)]) };
    const ab = concatConditioning(a, b);
    expect(values(ab.classLabels)).toEqual([1, 2, 3]);
    expect(ab.encoderHiddenStates!.shape).toEqual([3, L, D]);
    const s = sliceConditioning(ab, 1, 2)!;
    expect(values(s.classLabels)).toEqual([2, 3]);
    expect(values(s.encoderHiddenStates)).toEqual(Array.from(Float32Array.from([...prompt(2), ...prompt(3)])));
    const g = gatherConditioning(ab, [2, 0])!;
    expect(values(g.classLabels)).toEqual([3, 1]);
    expect(values(g.encoderHiddenStates)).toEqual(Array.from(Float32Array.from([...prompt(3), ...prompt(1)])));
    expect(() => concatConditioning(a, { classLabels: b.classLabels })).toThrow(/same fields.*classLabels,encoderHiddenStates.*classLabels/);
    expect(sliceConditioning(undefined, 0, 1)).toBeUndefined();
    for (const c of [a, b, ab, s, g]) disposeConditioning(c);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('null values: the null class, zeros or the given empty prompt', () => {
    const like: Conditioning = { classLabels: tf.tensor1d([0], 'int32'), encoderHiddenStates: ehs([prompt(5)]) };
    const zeros = nullConditioning(like, 2, { classLabels: 4 });
    expect(values(zeros.classLabels)).toEqual([4, 4]);
    expect(values(zeros.encoderHiddenStates)).toEqual(new Array(2 * L * D).fill(0));
    const empty = nullConditioning(like, 2, { classLabels: 4, encoderHiddenStates: prompt(9) });
    expect(values(empty.encoderHiddenStates)).toEqual(Array.from(Float32Array.from([...prompt(9), ...prompt(9)])));
    expect(() => nullConditioning(like, 1, {})).toThrow(/cond.classLabels: no null value; pass nullClass/);
    expect(() => nullConditioning(like, 1, { classLabels: 4, encoderHiddenStates: [1, 2] })).toThrow(/must have 6 values/);
    for (const c of [like, zeros, empty]) disposeConditioning(c);
  });

  it('condition dropout nulls every field of the dropped rows, on the host', () => {
    const host = {
      classLabels: { data: Int32Array.from([1, 2, 3]), shape: [3] },
      encoderHiddenStates: { data: Float32Array.from([...prompt(1), ...prompt(2), ...prompt(3)]), shape: [3, L, D] },
    };
    const out = dropConditioning(host, [false, true, false], { classLabels: 4, encoderHiddenStates: prompt(0) });
    expect(Array.from(out.classLabels!.data)).toEqual([1, 4, 3]);
    expect(Array.from(out.encoderHiddenStates!.data)).toEqual(Array.from(Float32Array.from([...prompt(1), ...prompt(0), ...prompt(3)])));
    expect(Array.from(host.classLabels.data)).toEqual([1, 2, 3]);
    expect(Array.from(sliceHostConditioning(out, 1, 3)!.classLabels!.data)).toEqual([4, 3]);
    expect(sliceHostConditioning(out, 1, 3)!.encoderHiddenStates!.shape).toEqual([2, L, D]);
  });

  it('goes to the host and back with its dtypes', async () => {
    const c: Conditioning = { classLabels: tf.tensor1d([2, 0], 'int32'), encoderHiddenStates: ehs([prompt(1), prompt(2)]) };
    const host = (await conditioningToHost(c))!;
    expect(host.classLabels!.data).toBeInstanceOf(Int32Array);
    expect(host.encoderHiddenStates!.data).toBeInstanceOf(Float32Array);
    expect(conditioningToHostSync(c)).toEqual(host);
    const back = conditioningFromHost(structuredClone(host))!;
    expect(back.classLabels!.dtype).toBe('int32');
    expect(values(back.encoderHiddenStates)).toEqual(values(c.encoderHiddenStates));
    expect(await conditioningToHost(undefined)).toBeUndefined();
    disposeConditioning(c);
    disposeConditioning(back);
  });

  it('checks rank and rows of every field and refuses fields the model does not read', () => {
    const c: Conditioning = { encoderHiddenStates: ehs([prompt(1)]) };
    expect(() => checkConditioning('M.predict', c, 1, { encoderHiddenStates: true })).not.toThrow();
    expect(() => checkConditioning('M.predict', c, 2, { encoderHiddenStates: true })).toThrow(/M.predict: cond.encoderHiddenStates must be a 3-D tensor \[batch, length, dim\] with 2 rows/);
    expect(() => checkConditioning('M.predict', c, 1, { encoderHiddenStates: 'the model has no cross-attention' })).toThrow(/given, but the model has no cross-attention/);
    expect(() => checkConditioning('M.predict', { textEmbeds: c.encoderHiddenStates } as Conditioning, 1)).toThrow(/no field 'textEmbeds'/);
    disposeConditioning(c);
  });
});

describe('a second condition field through guidance, sample and ensemble', () => {
  const X = [0.5, -1, 2, 0.25];
  const x = () => tf.tensor4d(X, [2, 1, 1, 2]);
  const t = () => tf.tensor1d([10, 10]);
  const cond = (): Conditioning => ({ classLabels: tf.tensor1d([1, 2], 'int32'), encoderHiddenStates: ehs([prompt(1), prompt(2)]) });
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

  it('guidance doubles the batch with each field null in the second half', () => {
    const seen: Conditioning[] = [];
    const c = cond();
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => classifierFreeGuidance(textToy(seen), { guidanceScale: 3, nullClass: 4, nulls: { encoderHiddenStates: prompt(0) } }).predict(x(), t(), c));
    expect(values(seen[0]!.classLabels)).toEqual([1, 2, 4, 4]);
    expect(values(seen[0]!.encoderHiddenStates)).toEqual(Array.from(Float32Array.from([...prompt(1), ...prompt(2), ...prompt(0), ...prompt(0)])));
    // ε_u + 3 (ε_c − ε_u) with ε = x (1 + c) + Σ e
    const f = (xv: number, cl: number, e: number[]) => xv * (1 + cl) + sum(e);
    const expected = X.map((xv, k) => {
      const r = k >> 1;
      const u = f(xv, 4, prompt(0));
      return u + 3 * (f(xv, [1, 2][r]!, prompt(r + 1)) - u);
    });
    values(out).forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 4));
    out.dispose();
    seen.forEach(disposeConditioning);
    expect(tf.memory().numTensors).toBe(before);
    disposeConditioning(c);
  });

  it('text-only guidance needs no null class', () => {
    const seen: Conditioning[] = [];
    const e = ehs([prompt(1)]);
    const toy = { ...textToy(seen), numClasses: null };
    tf.tidy(() => classifierFreeGuidance(toy, { guidanceScale: 2 }).predict(tf.zeros([1, 1, 1, 2]), tf.zeros([1]), { encoderHiddenStates: e }));
    expect(seen[0]!.classLabels).toBeUndefined();
    expect(values(seen[0]!.encoderHiddenStates)).toEqual(Array.from(Float32Array.from([...prompt(1), ...new Array(L * D).fill(0)])));
    expect(() => classifierFreeGuidance(toy, { guidanceScale: 2, nullClass: 0 })).toThrow(/unconditional/);
    seen.forEach(disposeConditioning);
    e.dispose();
  });

  it('sample() gives each row its own text condition (rows slice it) and leaks nothing', async () => {
    const schedule = makeSchedule();
    const c = cond();
    const opts = { schedule, shape: [2, 1, 1, 2] as [number, number, number, number], numInferenceSteps: 3, seed: 4, cond: c, guidance: { guidanceScale: 2, nullClass: 4 } };
    const before = tf.memory().numTensors;
    const seen: Conditioning[] = [];
    const all = await sample(textToy(seen), ddim(), opts);
    seen.splice(0).forEach(disposeConditioning);
    const second = await sample(textToy(seen), ddim(), { ...opts, rows: [1, 2] });
    expect(values(seen[0]!.encoderHiddenStates)).toEqual(Array.from(Float32Array.from([...prompt(2), ...new Array(L * D).fill(0)])));
    expect(values(second.samples)).toEqual(values(all.samples).slice(2));
    tf.dispose([all.samples, second.samples]);
    seen.forEach(disposeConditioning);
    expect(tf.memory().numTensors).toBe(before);
    disposeConditioning(c);
  });

  it('ensemble passes every field on', () => {
    const seen: Conditioning[] = [];
    const c = cond();
    tf.tidy(() => ensemble([textToy(seen), textToy(seen)]).predict(x(), t(), c));
    expect(seen.map((s) => values(s.encoderHiddenStates))).toEqual([values(c.encoderHiddenStates), values(c.encoderHiddenStates)]);
    seen.forEach(disposeConditioning);
    disposeConditioning(c);
  });
});
