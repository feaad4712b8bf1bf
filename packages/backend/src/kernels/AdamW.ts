import type * as tf from '@tensorflow/tfjs';
import { ADAMW_KERNEL, type AdamWKernelAttrs } from '@tfjs-diffusion/regularizers';
import { wasmKernels, type WasmKernelModule } from './wasm/loader.js';
import type { WasmBackendLike } from './wasmOps.js';
import { typedAttrs, type KernelArgs } from './kernelArgs.js';

/** Floats per region (p, m, v, g) of one call of the SIMD module: tensors are split into chunks of this size. */
const CHUNK = 1 << 22;

/**
 * Every parameter tensor's AdamW update in one kernel call (contract:
 * `@tfjs-diffusion/regularizers`' ADAMW_KERNEL): the tensors are copied back
 * to back into the `wasm/adamw.ts` SIMD module's memory (in chunks of 4M
 * values), updated there and copied out; a JavaScript loop over the wasm heap
 * where the module is not loaded.
 */
export function adamW(args: KernelArgs): tf.TensorInfo[] {
  const a = typedAttrs<AdamWKernelAttrs>(args.attrs);
  const backend = args.backend as WasmBackendLike;
  const k = a.count;
  for (const [name, list] of [['stepSize', a.stepSize], ['keep', a.keep], ['l2', a.l2]] as const) {
    if (!Array.isArray(list) || list.length !== k) throw new Error(`TfdAdamW: attribute ${name} must list ${k} numbers; got ${String(list)}`);
  }
  const get = (key: string): tf.TensorInfo => {
    const t = args.inputs[key];
    if (t === undefined) throw new Error(`TfdAdamW: input '${key}' is missing (count = ${k})`);
    if (t.dtype !== 'float32') throw new Error(`TfdAdamW: input '${key}' must be float32; got ${t.dtype}`);
    return t;
  };
  const ins = Array.from({ length: k }, (_, i) => {
    const [p, m, v, g] = ['p', 'm', 'v', 'g'].map((s) => get(`${s}${i}`)) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    for (const [s, t] of [['m', m], ['v', v], ['g', g]] as const) {
      if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
        throw new Error(`TfdAdamW: ${s}${i} has shape [${t.shape.join(', ')}]; p${i} has [${p.shape.join(', ')}]`);
      }
    }
    return { p, m, v, g };
  });
  const outP = ins.map(({ p }) => backend.makeOutput(p.shape, 'float32'));
  const outM = ins.map(({ p }) => backend.makeOutput(p.shape, 'float32'));
  const outV = ins.map(({ p }) => backend.makeOutput(p.shape, 'float32'));
  // views taken after every makeOutput: allocating may grow (and move) the heap
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const arrays = ins.map(({ p, m, v, g }, i) => ({
    p: view(p), m: view(m), v: view(v), g: view(g), p2: view(outP[i]!), m2: view(outM[i]!), v2: view(outV[i]!),
  }));
  const mod = wasmKernels()?.module('adamw');
  if (mod !== undefined) simdUpdate(mod, a, arrays);
  else jsUpdate(a, arrays);
  return [...outP, ...outM, ...outV];
}

interface Arrays { p: Float32Array; m: Float32Array; v: Float32Array; g: Float32Array; p2: Float32Array; m2: Float32Array; v2: Float32Array }

function jsUpdate(a: AdamWKernelAttrs, arrays: Arrays[]): void {
  const { beta1: b1, beta2: b2, epsilon: eps, invSqrtBc2: ib } = a;
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  arrays.forEach(({ p: P, m: M, v: V, g: G, p2: P2, m2: M2, v2: V2 }, i) => {
    const step = a.stepSize[i]!, keep = a.keep[i]!, l2 = a.l2[i]!;
    for (let j = 0; j < P.length; j++) {
      const th = P[j]!;
      const gj = l2 === 0 ? G[j]! : G[j]! + l2 * th;
      const mj = b1 * M[j]! + c1 * gj;
      const vj = b2 * V[j]! + c2 * gj * gj;
      M2[j] = mj;
      V2[j] = vj;
      P2[j] = keep * th - (step * mj) / (Math.sqrt(vj) * ib + eps);
    }
  });
}

function simdUpdate(mod: WasmKernelModule, a: AdamWKernelAttrs, arrays: Arrays[]): void {
  // segments [tensor, start, length] grouped into calls of at most CHUNK (padded) values per region
  type Seg = { i: number; start: number; n: number };
  const calls: Seg[][] = [[]];
  let used = 0;
  arrays.forEach(({ p }, i) => {
    for (let start = 0; start < p.length; ) {
      if (used >= CHUNK) {
        calls.push([]);
        used = 0;
      }
      const n = Math.min(p.length - start, CHUNK - used);
      calls.at(-1)!.push({ i, start, n });
      used += Math.ceil(n / 4) * 4;
      start += n;
    }
  });
  for (const segs of calls) {
    if (segs.length === 0) continue;
    const floats = segs.reduce((s, q) => s + Math.ceil(q.n / 4) * 4, 0);
    const tableBytes = Math.ceil((segs.length * 20) / 16) * 16;
    const base = mod.reserve(tableBytes + 16 * floats);
    const region = (r: number) => (base + tableBytes) / 4 + r * floats;
    const f = mod.f32();
    const table = new Int32Array(f.buffer, base, segs.length * 5);
    const tableF = new Float32Array(f.buffer, base, segs.length * 5);
    let off = 0;
    segs.forEach(({ i, start, n }, k) => {
      const { p, m, v, g } = arrays[i]!;
      table[5 * k] = off;
      table[5 * k + 1] = Math.ceil(n / 4) * 4;
      tableF[5 * k + 2] = a.stepSize[i]!;
      tableF[5 * k + 3] = a.keep[i]!;
      tableF[5 * k + 4] = a.l2[i]!;
      [p, m, v, g].forEach((src, r) => {
        const at = region(r) + off;
        f.set(src.subarray(start, start + n), at);
        f.fill(0, at + n, at + Math.ceil(n / 4) * 4);
      });
      off += Math.ceil(n / 4) * 4;
    });
    mod.exports.adamw!(segs.length, base, region(0) * 4, region(1) * 4, region(2) * 4, region(3) * 4, a.beta1, a.beta2, a.epsilon, a.invSqrtBc2);
    off = 0;
    for (const { i, start, n } of segs) {
      const { p2, m2, v2 } = arrays[i]!;
      [p2, m2, v2].forEach((dst, r) => dst.set(f.subarray(region(r) + off, region(r) + off + n), start));
      off += Math.ceil(n / 4) * 4;
    }
  }
}

export const adamWConfig: tf.KernelConfig = {
  kernelName: ADAMW_KERNEL,
  backendName: 'wasm',
  kernelFunc: adamW,
};
