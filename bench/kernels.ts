/**
 * Convolution kernel micro-benchmark on the mnist-ref U-Net's layer shapes:
 * GFLOP/s of the forward conv, the filter gradient and the input gradient,
 * wasm with @tfjs-diffusion/backend's kernels vs wasm's own and the cpu backend.
 *
 *   npx tsx --conditions=source bench/kernels.ts [--batch 32] [--cpu-batch 2]
 */
import * as tf from '@tensorflow/tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../packages/backend/src/index.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const batch = arg('batch', 32);
const cpuBatch = arg('cpu-batch', 2);
void wasmBackend;

interface Layer { name: string; hw: number; ci: number; co: number; k: number; s: number }
const layers: Layer[] = [
  { name: '28² 3×3 32→32', hw: 28, ci: 32, co: 32, k: 3, s: 1 },
  { name: '28² 3×3 64→32 (up, skip concat)', hw: 28, ci: 64, co: 32, k: 3, s: 1 },
  { name: '28→14 3×3 s2 32→32 (down)', hw: 28, ci: 32, co: 32, k: 3, s: 2 },
  { name: '14² 3×3 64→64', hw: 14, ci: 64, co: 64, k: 3, s: 1 },
  { name: '14² 3×3 128→64 (up, skip concat)', hw: 14, ci: 128, co: 64, k: 3, s: 1 },
  { name: '7² 3×3 64→64', hw: 7, ci: 64, co: 64, k: 3, s: 1 },
  { name: '14² 1×1 32→64 (res skip)', hw: 14, ci: 32, co: 64, k: 1, s: 1 },
];

// The stock wasm Conv2DBackpropInput, captured before ours replaces it.
const stockInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');

function timeIt(f: () => void, minMs: number): number {
  // (never return a typed array from tf.tidy: it walks every element looking for tensors)
  f(); // warm-up (XNNPACK packs weights once per filter tensor)
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 2) { f(); n++; }
  return (performance.now() - t0) / n;
}

function bench(l: Layer, b: number, minMs: number, stock: boolean) {
  const oh = Math.ceil(l.hw / l.s);
  const flops = 2 * b * oh * oh * l.k * l.k * l.ci * l.co;
  const x = tf.randomNormal([b, l.hw, l.hw, l.ci], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([l.k, l.k, l.ci, l.co], 0, 0.1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([b, oh, oh, l.co], 0, 1, 'float32', 3) as tf.Tensor4D;
  const attrs = { strides: [l.s, l.s], pad: 'same', dataFormat: 'NHWC' };
  const fwd = timeIt(() => tf.tidy(() => { tf.conv2d(x, w, l.s, 'same').dataSync(); }), minMs);
  const filt = timeIt(() => tf.tidy(() => { (tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
    { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync(); }), minMs);
  const inp = timeIt(() => tf.tidy(() => { (tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w },
    { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync(); }), minMs);
  let stockMs = NaN;
  if (stock && stockInput !== undefined) {
    // it was unregistered before the backend started, so its setup never ran
    stockInput.setupFunc?.(tf.backend());
    const backend = tf.backend() as unknown as { disposeData(id: tf.DataId): void };
    stockMs = timeIt(() => {
      const out = stockInput.kernelFunc({ inputs: { dy, filter: w }, attrs: { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
      backend.disposeData(out.dataId);
    }, minMs);
  }
  tf.dispose([x, w, dy]);
  const g = (ms: number) => (flops / ms / 1e6).toFixed(2);
  return { fwd: g(fwd), filt: g(filt), inp: g(inp), stock: Number.isNaN(stockMs) ? '' : g(stockMs) };
}

const rows: string[] = [];
for (const backendName of ['wasm', 'cpu'] as const) {
  const info = await initBackend({ prefer: backendName, quiet: true });
  const b = backendName === 'wasm' ? batch : cpuBatch;
  for (const l of layers) {
    process.stdout.write(`\r${backendName} ${l.name} ...`.padEnd(70));
    const r = bench(l, b, backendName === 'wasm' ? 1500 : 1, backendName === 'wasm');
    rows.push(`| ${info.name} | ${b} | ${l.name} | ${r.fwd} | ${r.filt} | ${r.inp} | ${r.stock} |`);
  }
}
process.stdout.write('\r'.padEnd(72) + '\r');
console.log('GFLOP/s (2·B·OH·OW·KH·KW·Ci·Co per call), one thread');
console.log('| backend | batch | layer | forward | filter grad | input grad | input grad (stock wasm) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
