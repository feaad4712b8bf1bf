// initBackend: choose the fastest backend that works here, or the one asked for.
import * as tf from '@tensorflow/tfjs';
import { checkOptions, optionKeys } from '@tfjs-diffusion/schedules';
import { registerCpuKernelFixes } from './registerTrainingKernels.js';
import { isNode } from './environment.js';
import { attempt } from './backendAttempts.js';
import type { BackendInfo, BackendPreference, InitBackendOptions, SkippedBackend } from './backendTypes.js';

const INIT_KEYS = optionKeys<InitBackendOptions>()(['prefer', 'threads', 'wasmPaths', 'quiet']);

const PREFERENCES: readonly BackendPreference[] = [
  'auto',
  'tfjs-node-gpu',
  'tfjs-node',
  'tensorflow',
  'webgpu',
  'webgl',
  'wasm',
  'cpu',
];

/** The order 'auto' tries backends in, here. */
export function autoOrder(): Exclude<BackendPreference, 'auto'>[] {
  return isNode() ? ['tensorflow', 'wasm', 'cpu'] : ['webgpu', 'webgl', 'wasm', 'cpu'];
}

/** The one line initBackend prints. */
export function describeBackend(info: BackendInfo): string {
  const extra = info.kernels.length > 0 ? ` + training kernels (${info.kernels.join(', ')})` : '';
  const details = [...info.notes, `${info.threads} thread${info.threads === 1 ? '' : 's'}`].join(', ');
  const skipped = info.skipped.length > 0 ? `; skipped ${info.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}` : '';
  return `@tfjs-diffusion/backend: using '${info.name}'${extra}, ${details}${skipped}`;
}

/**
 * Chooses and initialises the TensorFlow.js backend. 'auto' tries, in Node,
 * tfjs-node-gpu and tfjs-node (optional peer dependencies; a missing one is
 * skipped), then wasm with this package's training kernels, then cpu; in a
 * browser WebGPU, WebGL, wasm, cpu. It prints one line naming the choice and
 * why the others were skipped. An explicit `prefer` that cannot be met
 * throws, saying why.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  checkOptions('initBackend', opts, INIT_KEYS);
  const { prefer = 'auto', threads, quiet = false, wasmPaths } = opts;
  if (!PREFERENCES.includes(prefer)) {
    throw new Error(`prefer must be one of ${PREFERENCES.map((p) => `'${p}'`).join(', ')}; got '${String(prefer)}'`);
  }
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`threads must be a positive integer; got ${threads}`);
  }
  if (wasmPaths !== undefined && typeof wasmPaths !== 'string' && (typeof wasmPaths !== 'object' || wasmPaths === null)) {
    throw new Error(`wasmPaths must be a URL prefix string or a map from .wasm file name to URL; got ${String(wasmPaths)}`);
  }
  // Whatever is chosen, tfjs may fall back to cpu for a kernel: its fixes go in first.
  registerCpuKernelFixes();
  const order = prefer === 'auto' ? autoOrder() : [prefer];
  const skipped: SkippedBackend[] = [];
  for (const choice of order) {
    const result = await attempt(choice, { ...opts, auto: prefer === 'auto' });
    if (result.ok) {
      await tf.ready();
      const info: BackendInfo = { ...result.info, skipped: [...skipped, ...(result.skipped ?? [])] };
      if (!quiet) console.log(describeBackend(info));
      return info;
    }
    skipped.push(...result.skipped);
  }
  throw new Error(`prefer: '${prefer}' cannot be met: ${skipped.map((s) => s.reason).join('; ')}`);
}
