import * as tf from '@tensorflow/tfjs';
import { convCases, outSize } from './convCases.js';
import { randn, relativeError, runOn } from './onBackends.js';
import { smallUnetLoss, smallUnetShapes } from './smallUnet.js';

/** One gradient check: the largest relative error against its reference. */
export interface GradientCheck {
  name: string;
  /** What the result was compared with: a closed form, or the cpu backend. */
  reference: 'closed form' | 'cpu';
  error: number;
  /** Largest |value| of the result, so a check of zeros is visible. */
  scale: number;
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

async function againstCpu(backend: string, name: string, f: () => tf.Tensor[]): Promise<GradientCheck[]> {
  const want = await runOn('cpu', f);
  const got = await runOn(backend, f);
  return got.map((g, i) => ({ name: got.length > 1 ? `${name} [${i}]` : name, reference: 'cpu' as const, error: relativeError(g, want[i]!), scale: maxAbs(g) }));
}

/** conv2d's filter and input gradients for each geometry of convCases, against the cpu backend. */
async function convChecks(backend: string): Promise<GradientCheck[]> {
  const out: GradientCheck[] = [];
  for (const [i, c] of convCases.entries()) {
    const [oh, ow] = outSize(c);
    const dyShape = [c.x[0], oh, ow, c.filter[3]];
    const xd = randn(c.x, 10 + i);
    const fd = randn(c.filter, 20 + i);
    const dyd = randn(dyShape, 30 + i);
    const f = () => {
      const x = tf.tensor4d(xd, c.x);
      const filter = tf.tensor4d(fd, c.filter);
      const dy = tf.tensor4d(dyd, dyShape as [number, number, number, number]);
      const pad = c.pad;
      return [
        tf.conv2d(x, filter, c.strides, pad),
        tf.conv2dTranspose(dy, filter, c.x, c.strides, pad), // Conv2DBackpropInput
        tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.strides, pad), dy)))(filter), // Conv2DBackpropFilter
      ];
    };
    const r = await againstCpu(backend, `conv2d ${c.name}`, f);
    out.push(
      { ...r[0]!, name: `conv2d ${c.name}: forward` },
      { ...r[1]!, name: `conv2d ${c.name}: input gradient` },
      { ...r[2]!, name: `conv2d ${c.name}: filter gradient` },
    );
  }
  return out;
}

/**
 * Nearest 2× upsampling's gradient with batch 3, against its closed form:
 * each input pixel receives the sum of dy over the 2×2 block it was copied to.
 */
async function resizeNearestCheck(backend: string): Promise<GradientCheck> {
  const [b, h, w, c] = [3, 4, 5, 2];
  const dyd = randn([b, 2 * h, 2 * w, c], 7);
  const want = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < 2 * h; y++)
      for (let x = 0; x < 2 * w; x++)
        for (let k = 0; k < c; k++) want[((n * h + (y >> 1)) * w + (x >> 1)) * c + k]! += dyd[((n * 2 * h + y) * 2 * w + x) * c + k]!;
  const [got] = await runOn(backend, () => {
    const images = tf.zeros([b, h, w, c]) as tf.Tensor4D;
    const dy = tf.tensor4d(dyd, [b, 2 * h, 2 * w, c]);
    return tf.grad((im: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(im as tf.Tensor4D, [2 * h, 2 * w]), dy)))(images);
  });
  return { name: 'resizeNearestNeighbor 2× gradient, batch 3', reference: 'closed form', error: relativeError(got!, want), scale: maxAbs(got!) };
}

/** gather's gradient (UnsortedSegmentSum): table row s receives Σ of the upstream rows whose label is s. */
async function gatherCheck(backend: string): Promise<GradientCheck> {
  const labels = [0, 2, 2, 4, 0, 0, 1];
  const [rows, dim] = [6, 3];
  const dyd = randn([labels.length, dim], 8);
  const want = new Float32Array(rows * dim);
  labels.forEach((s, i) => { for (let j = 0; j < dim; j++) want[s * dim + j]! += dyd[i * dim + j]!; });
  const [got] = await runOn(backend, () => {
    const dy = tf.tensor2d(dyd, [labels.length, dim]);
    const ids = tf.tensor1d(labels, 'int32');
    return tf.grad((table: tf.Tensor) => tf.sum(tf.mul(tf.gather(table, ids), dy)))(tf.zeros([rows, dim]));
  });
  return { name: 'gather gradient (UnsortedSegmentSum)', reference: 'closed form', error: relativeError(got!, want), scale: maxAbs(got!) };
}

/** Group norm with SiLU and its input gradient: moments, broadcasting sub/div, sqrt, sigmoid. */
async function groupNormCheck(backend: string): Promise<GradientCheck[]> {
  const xd = randn([3, 6, 6, 8], 9);
  const wd = randn([3, 6, 6, 8], 11);
  return againstCpu(backend, 'group norm + SiLU input gradient', () => {
    const w = tf.tensor4d(wd, [3, 6, 6, 8]);
    return [tf.grad((x: tf.Tensor) => {
      const g = tf.reshape(x, [3, 6, 6, 4, 2]);
      const { mean, variance } = tf.moments(g, [1, 2, 4], true);
      const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [3, 6, 6, 8]);
      return tf.sum(tf.mul(tf.mul(n, tf.sigmoid(n)), w));
    })(tf.tensor4d(xd, [3, 6, 6, 8]))];
  });
}

/** Attention's gradient: batched matmuls and softmax. */
async function attentionCheck(backend: string): Promise<GradientCheck[]> {
  const qd = randn([2, 9, 6], 12);
  const kd = randn([2, 9, 6], 13);
  const vd = randn([2, 9, 6], 14);
  return againstCpu(backend, 'attention gradient (q, k, v)', () => {
    const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
      tf.sum(tf.square(tf.matMul(tf.softmax(tf.div(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), Math.sqrt(6))), v as tf.Tensor3D)));
    return tf.grads(f)([tf.tensor3d(qd, [2, 9, 6]), tf.tensor3d(kd, [2, 9, 6]), tf.tensor3d(vd, [2, 9, 6])]);
  });
}

/** The loss and every parameter's gradient of a small U-Net (batch 2), against the cpu backend. */
async function smallUnetCheck(backend: string): Promise<GradientCheck[]> {
  const names = Object.keys(smallUnetShapes);
  const data = names.map((n, i) => randn(smallUnetShapes[n]!, 100 + i).map((v) => v * 0.3));
  const xData = randn([2, 8, 8, 2], 1);
  const tData = randn([2, 8, 8, 2], 2);
  const r = await againstCpu(backend, 'small U-Net', () => {
    const params = names.map((n, i) => tf.tensor(data[i]!, smallUnetShapes[n]));
    const x = tf.tensor4d(xData, [2, 8, 8, 2]);
    const target = tf.tensor4d(tData, [2, 8, 8, 2]);
    const labels = tf.tensor1d([2, 0], 'int32');
    const t = tf.tensor1d([3, 17]);
    const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) =>
      smallUnetLoss(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x, t, labels, target))(params);
    return [value, ...grads];
  });
  return r.map((c, i) => ({ ...c, name: i === 0 ? 'small U-Net: loss' : `small U-Net: gradient of ${names[i - 1]}` }));
}

/**
 * Every gradient check of the U-Net's ops on `backend` (tfjs' name, already
 * registered and usable). The cpu backend is the reference where no closed
 * form is written out; call registerCpuKernelFixes() first.
 */
export async function runGradientChecks(backend: string): Promise<GradientCheck[]> {
  return [
    ...(await convChecks(backend)),
    await resizeNearestCheck(backend),
    await gatherCheck(backend),
    ...(await groupNormCheck(backend)),
    ...(await attentionCheck(backend)),
    ...(await smallUnetCheck(backend)),
  ];
}
