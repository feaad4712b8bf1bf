import * as tf from '@tensorflow/tfjs';
import { ADAMW_KERNEL, type AdamWKernelAttrs } from '@tfjs-diffusion/regularizers';
import type { WasmBackendLike } from './wasmOps.js';

/**
 * Every parameter tensor's AdamW update in one call (contract:
 * `@tfjs-diffusion/regularizers`' ADAMW_KERNEL). One JavaScript pass per
 * tensor over the wasm heap: the update reads 4 and writes 3 values per
 * parameter, so it is bound by memory, and copying into a SIMD module's
 * memory and back would move more bytes than the loop itself.
 */
export function adamW(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo[] {
  const a = args.attrs as unknown as AdamWKernelAttrs;
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
  const { beta1: b1, beta2: b2, epsilon: eps, invSqrtBc2: ib } = a;
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  ins.forEach(({ p, m, v, g }, i) => {
    const P = view(p), M = view(m), V = view(v), G = view(g);
    const P2 = view(outP[i]!), M2 = view(outM[i]!), V2 = view(outV[i]!);
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
  return [...outP, ...outM, ...outV];
}

export const adamWConfig: tf.KernelConfig = {
  kernelName: ADAMW_KERNEL,
  backendName: 'wasm',
  kernelFunc: adamW as unknown as tf.KernelFunc,
};
